"""Keep a person's answers in the encrypted session cookie, and read them back safely.

The cookie is the only place answers live. It is re-checked against the model on every request,
so an odd or tampered value can never reach scoring: a value already in the exact form the domain
parser returns (a JSON int in range for an integer, a known option, ticked options in order, clean
text within its limit) is taken as it is (domain/stored_answers.py, chosen by assessment/prerender);
anything else goes through the parser itself (`parse_answers`), which keeps only valid values.
Nothing is kept between requests. The answers are stored as compressed JSON: the real
questionnaire allows about 1,200 characters of free text, which as plain JSON (where every
non-ASCII letter becomes a six-byte escape) would not fit in one 4 KB cookie.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import zlib
from typing import Any

from flask import current_app
from flask import flash
from flask import g
from flask import session
from werkzeug.http import dump_cookie

from assessment.domain import Answers
from assessment.domain.answers_file import AnswerDates
from assessment.web.crypto_session import sealed_length
from assessment.web.state import state

EXPIRED_MESSAGE = (
    "Your answers were cleared: they are kept for an hour without activity and 8 hours at most "
    "(or they could not be read). Please start again."
)
KEY = "answers"
# The day the answers were last changed, then (for a restored file) the day it was restored:
# "2026-06-01" or "2026-06-01 2026-11-29". Twenty-one bytes, so the cookie stays small.
DATES_KEY = "at"
_PREFIX = "z2:"
# A stored answer set is a few kilobytes; refuse to inflate anything far bigger.
_MAX_INFLATED = 256 * 1024
# Room left in the cookie for flashed messages and the CSRF token written after a save.
COOKIE_HEADROOM = 200


class AnswersTooLarge(Exception):
    """The answers would not fit in the session cookie; the person must shorten free text."""


def load_answers() -> Answers:
    """Return the stored answers, re-parsed; flash once when the cookie had expired or was unreadable."""
    request_globals = g._get_current_object()
    stored = session._get_current_object()  # type: ignore[attr-defined]
    if getattr(stored, "expired", False) and not request_globals.get("_gutcheck_expired_noted"):
        request_globals._gutcheck_expired_noted = True
        flash(EXPIRED_MESSAGE, "info")
    cached = request_globals.get("_gutcheck_answers")
    if isinstance(cached, Answers):
        return cached
    answers = _parse_stored(stored.get(KEY))
    request_globals._gutcheck_answers = answers
    return answers


def save_answers(answers: Answers, dates: AnswerDates | None = None) -> None:
    """Store the answers; raise AnswersTooLarge (storing nothing) when the cookie would be too big.

    ``dates`` come with a restored file; otherwise a change to the answers dates them today, and
    saving them unchanged (walking through the pages of a restored file) keeps their date.
    """
    encoded = encode(answers)
    if not fits_in_cookie(encoded):
        raise AnswersTooLarge
    if dates is None and (answers != load_answers() or DATES_KEY not in session):
        dates = AnswerDates(dt.date.today())
    if dates is not None:
        session[DATES_KEY] = dates.compact()
    session[KEY] = encoded
    g._gutcheck_answers = answers


def answer_dates() -> AnswerDates:
    """Return when the stored answers were given (and restored); today when the session does not say."""
    return AnswerDates.from_compact(session.get(DATES_KEY), dt.date.today())


def clear() -> None:
    """Forget everything in the session: answers, CSRF token and messages."""
    session.clear()
    g._gutcheck_answers = Answers()


def encode(answers: Answers) -> str:
    """Write answers as compressed JSON in URL-safe base64 text (which JSON keeps without escapes)."""
    # Base64 rather than base85: the standard library decodes base85 in pure Python and base64 in
    # C, on every request; the cost is a third more bytes rather than a quarter.
    raw = json.dumps(answers.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    blob = packer.compress(raw) + packer.flush()
    return _PREFIX + base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")


def decode(stored: object) -> dict[str, Any] | None:
    """Return the stored answers as a JSON dict, or None when they cannot be read."""
    # Any other form (an older encoding, a plain dict) reads as no answers: a cookie lives an hour.
    if not isinstance(stored, str) or not stored.startswith(_PREFIX):
        return None
    text = stored[len(_PREFIX) :]
    try:
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
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
    # Only the sealed token's length counts, and it follows from the plaintext's, so nothing is
    # encrypted to measure it. Its characters (base64) need no quoting, like these.
    token = "x" * sealed_length(payload)
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
    """Re-check stored answers as if they had just been posted: only valid values survive."""
    data = decode(stored)
    if not data:
        return Answers()
    app_state = state()
    return app_state.prerender.stored_answers(app_state.questionnaire, data)
