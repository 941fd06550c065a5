"""A document as PDF: the printable HTML page through WeasyPrint, with the report's own
stylesheet (A4, page numbers) and no network: only ``data:`` and ``file:`` addresses are
fetched, so a missing font or a remote address never stalls a render."""

from __future__ import annotations

import logging

from reports.branding import Branding
from reports.document import Document
from reports.render_html import HtmlOptions, render_html

# WeasyPrint logs every CSS property it does not support at WARNING; the report's
# stylesheet is shared with browsers, so those lines are expected and only noise.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def render_pdf(document: Document, branding: Branding, *, version: int | None = None) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_html(document, branding, HtmlOptions(version=version, for_pdf=True))
    fetcher = URLFetcher(allowed_protocols={"data", "file"})
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return pdf
