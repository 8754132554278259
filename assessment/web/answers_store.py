"""Keep a person's answers in the encrypted session cookie, and read them back safely.

The cookie is the only place answers live. It is re-read through the domain parser on every
request, so an odd or tampered value can never reach scoring. The answers are stored as compressed
JSON: the real questionnaire allows about 1,200 characters of free text, which as plain JSON (where
every non-ASCII letter becomes a six-byte escape) would not fit in one 4 KB cookie.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from flask import current_app
from flask import flash
from flask import g
from flask import session
from werkzeug.http import dump_cookie

from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import parse_answers
from assessment.web.crypto_session import seal

EXPIRED_MESSAGE = (
    "Your answers were cleared after an hour without activity (or could not be read). Please start again."
)
KEY = "answers"
_PREFIX = "z1:"
# A stored answer set is a few kilobytes; refuse to inflate anything far bigger.
_MAX_INFLATED = 256 * 1024
# Room left in the cookie for flashed messages and the CSRF token written after a save.
COOKIE_HEADROOM = 200


class AnswersTooLarge(Exception):
    """The answers would not fit in the session cookie; the person must shorten free text."""


def questionnaire() -> Questionnaire:
    """Return the app's checked questionnaire."""
    found: Questionnaire = current_app.extensions["questionnaire"]
    return found


def load_answers() -> Answers:
    """Return the stored answers, re-parsed; flash once when the cookie had expired or was unreadable."""
    _note_expired()
    cached = g.get("_gutcheck_answers")
    if isinstance(cached, Answers):
        return cached
    answers = _parse_stored(session.get(KEY))
    g._gutcheck_answers = answers
    return answers


def save_answers(answers: Answers) -> None:
    """Store the answers; raise AnswersTooLarge (storing nothing) when the cookie would be too big."""
    encoded = encode(answers)
    if not fits_in_cookie(encoded):
        raise AnswersTooLarge
    session[KEY] = encoded
    g._gutcheck_answers = answers


def clear() -> None:
    """Forget everything in the session: answers, CSRF token and messages."""
    session.clear()
    g._gutcheck_answers = Answers()


def encode(answers: Answers) -> str:
    """Write answers as compressed JSON in base85 text (which JSON keeps without escapes)."""
    raw = json.dumps(answers.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    blob = packer.compress(raw) + packer.flush()
    return _PREFIX + base64.b85encode(blob).decode("ascii")


def decode(stored: object) -> dict[str, Any] | None:
    """Return the stored answers as a JSON dict, or None when they cannot be read."""
    if isinstance(stored, dict):
        return stored  # the plain to_json() form, e.g. written by a test or an older version
    if not isinstance(stored, str) or not stored.startswith(_PREFIX):
        return None
    try:
        blob = base64.b85decode(stored[len(_PREFIX) :])
        unpacker = zlib.decompressobj(-15)
        raw = unpacker.decompress(blob, _MAX_INFLATED)
        if unpacker.unconsumed_tail or not unpacker.eof:
            return None
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, zlib.error, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def fits_in_cookie(encoded: str) -> bool:
    """Say whether the session, holding these encoded answers, stays within MAX_COOKIE_SIZE."""
    app = current_app
    payload = dict(session)
    payload[KEY] = encoded
    # The ciphertext's length does not depend on the key, so a throwaway key measures it exactly.
    token = seal(bytes(32), payload)
    interface = app.session_interface
    header = dump_cookie(
        interface.get_cookie_name(app),
        token,
        max_age=int(app.config["SESSION_IDLE_MINUTES"]) * 60,
        path=interface.get_cookie_path(app),
        domain=interface.get_cookie_domain(app),
        secure=True,  # count the longest form, as in production
        httponly=interface.get_cookie_httponly(app),
        samesite=interface.get_cookie_samesite(app),
        max_size=0,  # measuring only: no size warning here
    )
    limit = int(app.config.get("MAX_COOKIE_SIZE") or 4093)
    return len(header) + COOKIE_HEADROOM <= limit


def _parse_stored(stored: object) -> Answers:
    """Re-parse stored answers as if they had just been posted: only valid values survive."""
    data = decode(stored)
    if not data:
        return Answers()
    q = questionnaire()
    raw: dict[str, list[object]] = {}
    for qid, value in data.items():
        if isinstance(qid, str) and qid in q.questions:
            raw[qid] = list(value) if isinstance(value, list) else [value]
    return parse_answers(q, raw).answers


def _note_expired() -> None:
    """Flash the expiry message once per request when the cookie could not be used."""
    if getattr(session, "expired", False) and not g.get("_gutcheck_expired_noted"):
        g._gutcheck_expired_noted = True
        flash(EXPIRED_MESSAGE, "info")
