"""What an endpoint checks before it acts: a bearer token (in constant time) and a request body
within a size cap, read from Starlette or from bare ASGI."""

from __future__ import annotations

import hmac

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from bot.config.secret import Secret


def bearer_matches(header: str | None, token: Secret) -> bool:
    """Whether an Authorization header is `Bearer <token>` (compared in constant time)."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    sent = value.strip().encode("utf-8", "surrogatepass")
    return hmac.compare_digest(sent, token.reveal().encode("utf-8", "surrogatepass"))


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > limit:
            return None
    return bytes(chunks)


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.extend(message.get("body", b""))
        if len(chunks) > limit:
            return None
        more = message.get("more_body", False)
    return bytes(chunks)
