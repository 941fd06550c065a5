"""Headers every answer carries, so that a browser holds the service's pages to what they are:

- ``Content-Security-Policy``: scripts, styles, fonts, images and requests from this service
  only; no inline script and no inline event handler (the pages have none); the report
  documents' one inline stylesheet is allowed by its hash; no page may be framed
  (``frame-ancestors 'none'``), against clickjacking;
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (no address of a
  page about someone's budget goes to another site);
- ``Strict-Transport-Security`` when the request came over HTTPS (its own scheme, or the one a
  trusted proxy forwarded: ``web.trusted_proxies``);
- ``Cache-Control: no-store`` on everything but the static assets: the API's answers and the
  pages are about people's money and must not be kept by a browser or a proxy.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_PREFIX = "/assets/"
HSTS = "max-age=31536000"


def style_hash(stylesheet: str) -> str:
    """The CSP source that allows one inline ``<style>`` with exactly this text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(stylesheet.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(inline_styles: Iterable[str] = ()) -> str:
    styles = " ".join(["'self'", *(style_hash(each) for each in inline_styles)])
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, inline_styles: Iterable[str] = ()) -> None:
        self.app = app
        self.policy = content_security_policy(inline_styles)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_https = scope.get("scheme") == "https"
        static = scope.get("path", "").startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.policy)
                headers["X-Content-Type-Options"] = "nosniff"
                headers.setdefault("Referrer-Policy", "same-origin")
                if over_https:
                    headers["Strict-Transport-Security"] = HSTS
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
