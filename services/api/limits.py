"""Refuse bodies over the limit before reading them whole (HTTP 413)."""

from __future__ import annotations

import json
from typing import Any

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
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"the request body is larger than {self.max_bytes} bytes"
        has_body = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await self._refuse(scope, send, detail)
                    return
                has_body = True
            elif name == b"transfer-encoding":
                has_body = True
        if not has_body:  # neither header: no body (RFC 9112, 6.3), nothing to count
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(detail)
            return message

        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watching_send)
        except BodyTooLargeError:
            if not started:
                await self._refuse(scope, send, detail)

    async def _refuse(self, scope: Scope, send: Any, detail: str) -> None:
        body, headers = _problem(413, detail, scope.get("path", ""))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
