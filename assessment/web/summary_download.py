"""GET /report.pdf: the clinician summary of the session's answers, made by the PDF adapter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from assessment.domain import Assessment
from assessment.domain import Urgency
from assessment.domain import assess
from assessment.domain.answers_file import AnswerDates
from assessment.domain.answers_file import answers_document
from assessment.report import Attachment
from assessment.report import PdfRenderer
from assessment.report import RenderBusy
from assessment.report import RenderTimeout
from assessment.report.summary import build_summary
from assessment.web.answers_store import answer_dates
from assessment.web.answers_store import load_answers
from assessment.web.fhir import fhir_attachment
from assessment.web.levels import level_view
from assessment.web.state import state

bp = Blueprint("report", __name__)
RETRY_AFTER_SECONDS = 5


class SummaryBusy(Exception):
    """Every render slot of this process is taken, or the render ran past its time."""


def renderer(app: Flask) -> PdfRenderer:
    """Return this process's renderer, made once: CSS parsed and fonts loaded a single time."""
    config = app.config
    return state(app).pdf_renderer.get(
        lambda: PdfRenderer(
            max_concurrent=int(config["PDF_MAX_CONCURRENT"]), timeout_s=float(config["PDF_TIMEOUT_SECONDS"])
        )
    )


@dataclass(frozen=True, slots=True)
class SummaryDocument:
    """What the PDF adapter needs for one summary: the HTML, the answers file and the metadata."""

    html: str
    attachment: Attachment
    title: str
    author: str = "Patient-completed"
    subject: str = "Gut symptoms and supplements; patient-completed, not a diagnosis"


def summary_document(
    assessment: Assessment, dates: AnswerDates, exported_at: dt.date | None = None
) -> SummaryDocument:
    """Fill the summary template for an assessment (needs an app context for the template)."""
    words = {u: f"{level_view(u).name}: {level_view(u).time_frame_text}" for u in Urgency}
    safety_net = (
        assessment.questionnaire.meta.safety_net,
        f"In an emergency: {level_view(Urgency.EMERGENCY).action_text}",
        f"For advice the same day: {level_view(Urgency.URGENT).action_text}",
    )
    summary = build_summary(assessment, dates, words, safety_net if safety_net[0] else ())
    html = render_template(
        "report/summary.html",
        s=summary,
        urgency_words=words,
        recall=assessment.questionnaire.meta.recall or "recently",
    )
    attachment = Attachment(
        name="answers.json",
        data=answers_document(assessment, dates, exported_at or dt.date.today()),
        description="The answers in this summary; load this PDF in Gut Check to continue.",
        mime="application/json",
    )
    return SummaryDocument(html, attachment, f"{summary.title}: summary for your doctor")


def summary_pdf(assessment: Assessment, dates: AnswerDates | None = None) -> bytes:
    """Render the summary PDF with the answers embedded as answers.json; raise SummaryBusy."""
    dates = dates or AnswerDates(dt.date.today())
    document = summary_document(assessment, dates)
    try:
        return renderer(current_app._get_current_object()).render(  # type: ignore[attr-defined]
            document.html,
            attachments=[document.attachment, fhir_attachment(assessment, dates.answered_at)],
            title=document.title,
            author=document.author,
            subject=document.subject,
        )
    except (RenderBusy, RenderTimeout) as exc:
        raise SummaryBusy(str(exc)) from exc


def pdf_response(data: bytes, today: dt.date | None = None) -> Response:
    """Wrap PDF bytes as a download that is never cached."""
    name = f"gut-check-summary-{(today or dt.date.today()).isoformat()}.pdf"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def busy_response() -> Response:
    """503 at once with Retry-After, rather than a long queue."""
    response = Response(render_template("errors/busy.html"), status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.get("/report.pdf")
def report_pdf() -> BaseResponse:
    """Download the summary for a doctor visit, made from this session's answers."""
    answers = load_answers()
    if not answers:
        flash("There are no answers to summarise yet. Start the questionnaire first.")
        return redirect(url_for("questionnaire.start"))
    assessment = assess(state().questionnaire, answers)
    try:
        return pdf_response(summary_pdf(assessment, answer_dates()))
    except SummaryBusy:
        return busy_response()
