"""Limits on request bodies: their size and the time they take to arrive.

A declared length over the size limit is refused at once, a streamed body as soon as it grows
past it, both with 413. A body still incomplete when its time is up (a client sending a byte a
second holds a connection and a worker for as long as it likes) gets 408 and the connection is
closed.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem_response


class BodyLimitMiddleware:
    """Answer 413 to request bodies larger than ``limit`` bytes and 408 to bodies that take
    longer than ``timeout`` seconds (counted from the request's headers) to arrive."""

    def __init__(self, app: ASGIApp, *, limit: int, timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

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

    def _late(self) -> HTTPException:
        detail = (
            f"the request body did not arrive within the limit of {self.timeout:g} seconds; "
            "send it faster (the operator can raise GEOPLAN_BODY_TIMEOUT)"
        )
        return HTTPException(408, detail, headers={"Connection": "close"})

    def _counting(self, receive: Receive) -> Receive:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        seen = 0
        complete = False

        async def counted() -> Message:
            nonlocal seen, complete
            if complete:  # later receives wait for a disconnect: no deadline on those
                return await receive()
            message = await self._in_time(receive, deadline - loop.time())
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if seen > self.limit:  # FastAPI passes HTTPException through body parsing
                    raise HTTPException(413, self._detail())
            return message

        return counted

    async def _in_time(self, receive: Receive, left: float) -> Message:
        if left <= 0:
            raise self._late()
        try:
            async with asyncio.timeout(left):
                return await receive()
        except TimeoutError:
            raise self._late() from None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
