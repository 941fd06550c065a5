"""A document as a printable HTML page in the NHS.UK look.

The page links the nhsuk-frontend stylesheet the web app serves (``NHSUK_CSS_HREF``) and
carries the report's own small stylesheet inline, so a saved file opened on its own still
reads and prints properly. Charts and easy-read pictures are inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports.branding import Branding
from reports.charts import chart_svg
from reports.document import Chart, Document, Table, ValueKind
from reports.formatting import day_text, display, moment_text, whole_pounds_text
from reports.pictures import picture_svg

NHSUK_CSS_HREF = "/assets/nhsuk/nhsuk-frontend.min.css"
WIDE_COLUMNS = 7
"""A section with a table this wide prints on a landscape page."""


@cache
def report_css() -> str:
    return resources.files("reports").joinpath("static/report.css").read_text(encoding="utf-8")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["show"] = lambda value, kind: display(value, ValueKind(kind))
    environment.filters["show_easy"] = _easy_value
    environment.filters["picture"] = picture_svg
    return environment


def _easy_value(value: object, kind: str) -> str:
    if ValueKind(kind) == ValueKind.MONEY:
        return whole_pounds_text(int(value))  # type: ignore[call-overload]
    if ValueKind(kind) == ValueKind.DATE and isinstance(value, date):
        return day_text(value)
    return display(value, ValueKind(kind))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class HtmlOptions:
    nhsuk_css_href: str | None = NHSUK_CSS_HREF
    version: int | None = None
    for_pdf: bool = False


def render_html(document: Document, branding: Branding, options: HtmlOptions = HtmlOptions()) -> str:
    titles = {block.key: block.title for block in document.blocks() if isinstance(block, Table)}
    environment = _environment()
    environment.filters["table_title"] = lambda key: titles.get(key, key)
    charts = {block.key: chart_svg(block) for block in document.blocks() if isinstance(block, Chart)}
    as_at = day_text(document.period_end) if document.period_end else moment_text(document.generated_at)
    wide = {s.key for s in document.sections if any(isinstance(b, Table) and len(b.columns) >= WIDE_COLUMNS for b in s.blocks)}
    return environment.get_template("document.html").render(
        document=document,
        branding=branding,
        charts=charts,
        report_css=report_css(),
        nhsuk_css_href=None if options.for_pdf else options.nhsuk_css_href,
        generated=moment_text(document.generated_at),
        as_at=as_at,
        version=options.version,
        wide_sections=wide,
        print_rows_max=document.print_rows_max if options.for_pdf else None,
    )
