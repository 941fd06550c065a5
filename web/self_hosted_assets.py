"""Every file a page loads comes from the service itself, so a page loads without waiting on
another host, and no other server learns who reads which page.

- The NHS.UK stylesheets name the Frutiger font on ``assets.nhs.uk`` (``@font-face``); the
  font is licensed to the NHS's own sites and is not ours to copy, so those rules are left
  out when the stylesheets are served, and pages use the design system's own fallback
  (Arial, then the system's sans-serif).
- The API's documentation (Swagger UI) is served from the npm package ``swagger-ui-dist``
  (package-lock.json) instead of a CDN, and started by a script file rather than an inline
  script, which the Content-Security-Policy refuses.
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
SWAGGER_UI_DIST = NODE_MODULES / "swagger-ui-dist"
OUTSIDE_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*url\(\s*[\"']?(?:https?:)?//[^}]*\}")


def without_outside_fonts(stylesheet: str) -> str:
    return OUTSIDE_FONT_FACE.sub("", stylesheet)


@cache
def _stylesheet(path: Path) -> str:
    return without_outside_fonts(path.read_text(encoding="utf-8"))


class SelfContainedStaticFiles(StaticFiles):
    """Static files whose stylesheets load nothing from another host."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if path.endswith(".css") and response.status_code == 200:
            full_path, _ = self.lookup_path(path)
            return Response(_stylesheet(Path(full_path)), media_type="text/css")
        return response


API_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>{title} – API documentation</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="/assets/nhsuk/assets/images/favicon.ico" sizes="48x48">
  <link rel="stylesheet" href="/assets/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="/assets/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/assets/app/api-docs.js"></script>
</body>
</html>
"""


def serve_api_docs(app: FastAPI, *, docs_url: str, openapi_url: str) -> None:
    """The Swagger UI page at ``docs_url``, and its files under ``/assets/swagger-ui``."""
    page = API_DOCS_PAGE.format(title=escape(app.title), openapi_url=escape(openapi_url))

    @app.get(docs_url, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    if SWAGGER_UI_DIST.is_dir():
        app.mount("/assets/swagger-ui", StaticFiles(directory=SWAGGER_UI_DIST), name="swagger-ui")
