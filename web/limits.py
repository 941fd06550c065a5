"""The server's limits: on request bodies, enforced before anything reads or parses them
(FastAPI has none of its own; larger bodies get 413, and a few paths such as statement uploads
have a larger limit of their own), and on how many requests' database work runs at once."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_BODY_BYTES_MAX = 1024 * 1024

DEFAULT_WORKER_THREADS = 4
"""Threads that run requests' database work (``serve --threads``). Few on purpose: a page is
mostly Python, and Python threads take turns; measured with 50 users asking at once, 2 threads
answer 43 requests a second, 4 answer 35, 8 answer 32 and AnyIO's default of 40 answers 28
(``benchmarks/bench_web.py``). Enough that a long report or import leaves others running."""


class BodyTooLarge(HTTPException):
    """Raised while the body is read: an HTTPException, so that FastAPI (which answers 400 to
    any other error raised reading a body) lets it through to the 413 answer."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="the request body is too large")


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int = JSON_BODY_BYTES_MAX,
        overrides: Sequence[tuple[str, int]] = (),
    ) -> None:
        """``overrides``: (path regex, limit) pairs; the first that matches a path wins."""
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = [(re.compile(pattern), limit) for pattern, limit in overrides]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.overrides:
            if pattern.match(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers", [])).get(b"content-length")
        page = not scope.get("path", "").startswith("/api/")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await _refuse(send, max_bytes, page=page)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await _refuse(send, max_bytes, page=page)


PAGE_TOO_LARGE = """<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>The file is too large</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/assets/nhsuk/nhsuk-frontend.min.css"></head>
<body><div class="nhsuk-width-container"><main class="nhsuk-main-wrapper" id="maincontent"><h1 class="nhsuk-heading-l">The file is too large</h1>
<p>The most this page takes is {limit}. Nothing was stored. Go back, choose a smaller file and send it again.</p><p><a href="/">Go to the start page</a></p>
</main></div></body></html>"""


async def _refuse(send: Send, max_bytes: int, *, page: bool = False) -> None:
    """413 before anything is read: JSON for the API, a plain page for a page's form."""
    if page:
        body = PAGE_TOO_LARGE.format(limit=f"{max_bytes // (1024 * 1024)} MB").encode()
        content_type = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"code": "request_too_large", "message": f"the request body is larger than {max_bytes:,} bytes"}).encode()
        content_type = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
