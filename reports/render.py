"""One document, any format: HTML, PDF, CSV or XLSX, with the media type and file name an
HTTP response or a saved file needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import InvalidInput
from reports.branding import Branding, branding_from_environment
from reports.document import Document
from reports.render_csv import render_csv
from reports.render_html import HtmlOptions, render_html
from reports.render_pdf import render_pdf
from reports.render_xlsx import render_xlsx


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"
    CSV = "csv"
    XLSX = "xlsx"
    ZIP = "zip"
    """A report with attachments (the audit pack with its evidence): see ``ReportKind.bundle``."""


MEDIA_TYPES = {
    Format.HTML: "text/html; charset=utf-8",
    Format.PDF: "application/pdf",
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.ZIP: "application/zip",
}
DOCUMENT_FORMATS = (Format.HTML, Format.PDF, Format.CSV, Format.XLSX)


@dataclass(frozen=True, slots=True)
class Rendered:
    content: bytes
    media_type: str
    file_name: str


def render(document: Document, format: Format | str, *, branding: Branding | None = None, version: int | None = None) -> Rendered:
    chosen = Format(format)
    brand = branding or branding_from_environment()
    if chosen == Format.HTML:
        content = render_html(document, brand, HtmlOptions(version=version)).encode("utf-8")
    elif chosen == Format.PDF:
        content = render_pdf(document, brand, version=version)
    elif chosen == Format.CSV:
        content = render_csv(document)
    elif chosen == Format.XLSX:
        content = render_xlsx(document)
    else:
        raise InvalidInput("a ZIP is made with its attachments by the report itself, not from a document", code="format_not_offered", field="format")
    suffix = f"-v{version}" if version else ""
    return Rendered(content, MEDIA_TYPES[chosen], f"{document.file_stem}{suffix}.{chosen.value}")
