"""Telegram's webhook, answered only once each update is stored.

PTB's own webhook server puts an update in a queue and answers 200 at once, so an update not
yet stored when the process dies is lost: Telegram does not send it again. This server answers
200 only after the pipeline has committed the update, and 500 when storing it failed, so
Telegram sends it again (the inbox skips a repeat). After `give_up_after` failed tries of one
update it answers 200 and logs the loss, as polling does (telegram.py, `_after_failure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus

from telegram import Bot, Update
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Seconds stop() waits for updates being stored before it closes their connections.
STOP_WAIT_SECONDS = 5.0

# Hands updates to the pipeline; how many, from the first, were stored.
Store = Callable[[Sequence[Update]], Awaitable[int]]


class WebhookServer:
    """An HTTP server on `listen`:`port` taking Telegram's POSTs at `path`."""

    def __init__(
        self,
        *,
        listen: str,
        port: int,
        path: str,
        secret: str,
        bot: Bot,
        store: Store,
        give_up_after: int,
    ) -> None:
        self._listen, self._port, self._path = listen, port, "/" + path.lstrip("/")
        self.secret, self.bot, self.store = secret, bot, store
        self.give_up_after = give_up_after
        self.failures: dict[int, int] = {}  # update id -> failed tries to store it
        self.handling = 0  # requests being stored right now
        self.idle = asyncio.Event()
        self.idle.set()
        self._server: HTTPServer | None = None

    async def start(self) -> None:
        """Listen (raises OSError when the port is taken)."""
        application = Application([(self._path, _Hook, {"server": self})])
        server = HTTPServer(application, xheaders=True)
        server.listen(self._port, self._listen)
        self._server = server

    async def stop(self) -> None:
        """Stop listening, let updates being stored finish (for a while), close connections."""
        if self._server is not None:
            self._server.stop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_WAIT_SECONDS):
                    await self.idle.wait()
            await self._server.close_all_connections()
            self._server = None


class _Hook(RequestHandler):
    """One POST from Telegram: a JSON update."""

    server: WebhookServer

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    async def post(self) -> None:
        server = self.server
        token = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), server.secret.encode()):
            self._finish(HTTPStatus.FORBIDDEN)
            return
        try:
            update = Update.de_json(json.loads(self.request.body), server.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            logger.warning("telegram: webhook body is not an update: %s", error)
            self._finish(HTTPStatus.BAD_REQUEST)
            return
        server.handling += 1
        server.idle.clear()
        try:
            stored = await server.store([update])
        except Exception:  # an adapter bug: counted as a failed try, never retried forever
            logger.exception("telegram: webhook update %s could not be handled", update.update_id)
            stored = 0
        finally:
            server.handling -= 1
            if not server.handling:
                server.idle.set()
        if stored == 1:
            server.failures.pop(update.update_id, None)
            self._finish(HTTPStatus.OK)
            return
        count = server.failures[update.update_id] = server.failures.get(update.update_id, 0) + 1
        if count >= server.give_up_after:
            logger.error(
                "telegram: giving up on update %s after %d failed attempts", update.update_id, count
            )
            del server.failures[update.update_id]
            self._finish(HTTPStatus.OK)
            return
        self._finish(HTTPStatus.INTERNAL_SERVER_ERROR)  # Telegram sends it again

    def _finish(self, status: HTTPStatus) -> None:
        self.set_status(status)
        self.finish()
