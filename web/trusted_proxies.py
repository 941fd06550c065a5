"""Where a request comes from, and whether it came over HTTPS: the connection's own peer and
scheme, unless the peer is a proxy named in ``PHB_LEDGER_TRUSTED_PROXIES`` (addresses or
networks, separated by commas; none by default). Only then are ``X-Forwarded-For`` and
``X-Forwarded-Proto`` read, and the address taken is the nearest one that is not itself a
trusted proxy: anything further left in the header was written by the client and proves
nothing. Everything after this middleware (the sign-in throttle, HSTS) reads
``scope["client"]`` and ``scope["scheme"]`` only.

Uvicorn's own reading of these headers (which trusts 127.0.0.1 by default) is turned off by
``phb-ledger serve``, so that this is the one place that decides.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.errors import LedgerError

TRUSTED_PROXIES_ENV = "PHB_LEDGER_TRUSTED_PROXIES"


class TrustedProxiesInvalid(LedgerError):
    status_code = 500
    default_code = "trusted_proxies_invalid"


class TrustedProxies:
    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks: list[IPv4Network | IPv6Network] = []
        for entry in (each.strip() for each in entries):
            if not entry:
                continue
            try:
                self.networks.append(ip_network(entry, strict=False))
            except ValueError:
                raise TrustedProxiesInvalid(f"{TRUSTED_PROXIES_ENV}: {entry!r} is not an IP address or network (such as 10.0.0.0/8)") from None

    @classmethod
    def from_environment(cls) -> TrustedProxies:
        return cls(os.environ.get(TRUSTED_PROXIES_ENV, "").split(","))

    def trusts(self, address: str) -> bool:
        try:
            parsed = ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self.networks)

    def client_of(self, forwarded_for: str) -> str | None:
        """The nearest address in an ``X-Forwarded-For`` chain that is not a trusted proxy."""
        chain = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(chain):
            if not self.trusts(hop):
                return hop if _is_address(hop) else None
        return chain[0] if chain else None


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


class ForwardedByTrustedProxies:
    def __init__(self, app: ASGIApp, *, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self.proxies.trusts(client[0]):
            forwarded = self.proxies.client_of(_joined(scope, b"x-forwarded-for"))
            proto = _joined(scope, b"x-forwarded-proto").split(",")[-1].strip().lower()
            scope = dict(scope)
            if forwarded is not None:
                scope["client"] = (forwarded, 0)
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        await self.app(scope, receive, send)


def _joined(scope: Scope, name: bytes) -> str:
    """Every value of a header sent more than once, in order, as one comma-separated list."""
    return ",".join(value.decode("latin-1") for key, value in scope.get("headers", []) if key.lower() == name)
