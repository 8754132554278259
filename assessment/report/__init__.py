"""Report adapters: render the clinician summary to PDF (no Flask here)."""

from assessment.report.pdf import ASSET_SCHEME
from assessment.report.pdf import Attachment
from assessment.report.pdf import PdfRenderer
from assessment.report.pdf import RenderBusy
from assessment.report.pdf import RenderError
from assessment.report.pdf import RenderTimeout
from assessment.report.pdf import base_stylesheet

__all__ = [
    "ASSET_SCHEME",
    "Attachment",
    "PdfRenderer",
    "RenderBusy",
    "RenderError",
    "RenderTimeout",
    "base_stylesheet",
]
