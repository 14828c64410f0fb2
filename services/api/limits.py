"""Refuse bodies over the limit before reading them whole (HTTP 413)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(HTTPException):
    """Raised while a streamed body is read: FastAPI passes HTTP errors on as they are."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


def _problem(status: int, detail: str, path: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps({
        "type": f"https://opsledger.dev/problems/{status}", "title": "Content too large",
        "status": status, "detail": detail, "instance": path,
    }).encode()
    headers = [(b"content-type", b"application/problem+json"),
               (b"content-length", str(len(body)).encode())]
    return body, headers


class BodyLimit:
    """The body limit of :class:`services.api.middleware.Edge`: a declared
    ``Content-Length`` over it is refused before the application runs, and a streamed
    body is counted as it is read."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.detail = f"the request body is larger than {max_bytes} bytes"

    async def call(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send,
                   answered: Callable[[], bool]) -> None:
        """``app`` under the limit; ``answered`` says whether an answer has begun (a
        body found too large after that is left to the answer under way)."""
        has_body = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await self._refuse(scope, send)
                    return
                has_body = True
            elif name == b"transfer-encoding":
                has_body = True
        if not has_body:  # neither header: no body (RFC 9112, 6.3), nothing to count
            await app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.detail)
            return message

        try:
            await app(scope, limited, send)
        except BodyTooLargeError:
            if not answered():
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body, headers = _problem(413, self.detail, scope.get("path", ""))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
