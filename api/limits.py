"""The request body limit: a declared length over it is refused at once, a streamed body as soon
as it grows past it, both with 413."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem_response


class BodyLimitMiddleware:
    """Answer 413 to request bodies larger than ``limit`` bytes."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await problem_response(413, self._detail())(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _detail(self) -> str:
        return f"the request body is larger than the limit of {self.limit} bytes; send less"

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # FastAPI passes HTTPException through body parsing
                    raise HTTPException(413, self._detail())
            return message

        return counted


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
