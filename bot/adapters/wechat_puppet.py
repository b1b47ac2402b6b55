"""python-wechaty 0.10.7 plumbing: its imports made to work on Python 3.11, its loggers tamed and
the token masked, the gRPC puppet client without its blocking connect, FileBox JSON both ways, and
which puppet service failures are worth retrying.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import re
import sys
import urllib.request
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.adapters.base import DeliveryError
from bot.adapters.wechat_messages import MessageKind

with warnings.catch_warnings():
    # The puppet-service client imports telnetlib and pyee's old AsyncIOEventEmitter path; both
    # warn on Python 3.11, and the test suite turns warnings into errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    from grpclib.client import Channel
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError, StreamTerminatedError
    from wechaty_grpc.wechaty import PuppetStub
    from wechaty_grpc.wechaty.puppet import ImageType, MessageType
    from wechaty_puppet.exceptions import WechatyPuppetError
    from wechaty_puppet.schemas.puppet import PuppetOptions
    from wechaty_puppet_service import PuppetService

# python-wechaty 0.10.7 declares `WechatyOptions.puppet_options: PuppetOptions = PuppetOptions()`.
# PuppetOptions is a plain (unfrozen) dataclass, so its __hash__ is None, and Python 3.11's
# dataclasses reject such a default as mutable: `import wechaty` fails. Identity hashing is
# what that default had before 3.11; this must run before wechaty is first imported.
PuppetOptions.__hash__ = object.__hash__

# Errors that mean "the connection is gone or going": retry after reconnecting.
CONNECTION_ERRORS = (StreamTerminatedError, ConnectionError, OSError, TimeoutError)
# What a failed call to the puppet service raises: a gRPC status, or the connection going.
CALL_ERRORS = (GRPCError, *CONNECTION_ERRORS)
# The same through python-wechaty, which adds WechatyPuppetError between connections.
PUPPET_ERRORS = (*CALL_ERRORS, WechatyPuppetError)
_TRANSIENT_STATUSES = frozenset(
    {Status.UNAVAILABLE, Status.CANCELLED, Status.DEADLINE_EXCEEDED, Status.UNKNOWN}
)
# A send that fails with these can never succeed: the chat is gone or closed to the bot.
_PERMANENT_STATUSES = frozenset({Status.NOT_FOUND, Status.PERMISSION_DENIED})
_FILE_BOX_BASE64, _FILE_BOX_URL = 1, 2
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.@-]")


class RedactSecret(logging.Filter):
    """python-wechaty logs the puppet token in clear at WARNING; mask it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret in message:
            record.msg, record.args = message.replace(self._secret, "***"), None
        return True


def _library_loggers() -> list[logging.Logger]:
    # python-wechaty builds its loggers at import with their own console handlers.
    roots = {"wechaty", "wechaty_puppet", "wechaty_puppet_service"}
    found: dict[str, logging.Logger] = {}
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in roots:
            for value in list(vars(module).values()):
                if isinstance(value, logging.Logger):
                    found[value.name] = value
    return list(found.values())


def adopt_library_loggers(redactor: logging.Filter) -> None:
    """Route python-wechaty's logs through ours: WARNING and up (its INFO lines carry message
    payloads and names), token masked."""
    for library_logger in _library_loggers():
        library_logger.handlers.clear()
        library_logger.propagate = True
        library_logger.setLevel(logging.WARNING)
    for any_logger in (*_library_loggers(), *_header_loggers()):
        any_logger.addFilter(redactor)


def _header_loggers() -> list[logging.Logger]:
    # HTTP/2's header codec logs every header at DEBUG, the token-carrying :authority too.
    return [logging.getLogger(name) for name in ("hpack.hpack", "hpack.table")]


def release_library_loggers(redactor: logging.Filter) -> None:
    """Undo adopt_library_loggers' token masking."""
    for any_logger in (*_library_loggers(), *_header_loggers()):
        any_logger.removeFilter(redactor)


def load_wechaty(cache_dir: Path) -> ModuleType:
    """Import python-wechaty with its cache under Linli's data folder.

    It reads CACHE_DIR once, at import, and would otherwise create `.wechaty/` in the working
    directory; a second adapter in the same process shares the first one's folder.
    """
    if "wechaty" not in sys.modules:
        cache_dir.mkdir(parents=True, exist_ok=True)
        os.environ["CACHE_DIR"] = str(cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("wechaty")


class PuppetClient(PuppetService):
    """python-wechaty's gRPC puppet client, minus its blocking connect and its file helpers."""

    def _init_puppet(self) -> None:
        # The library first pings the endpoint with a blocking telnetlib connect (up to 3 s on
        # the event loop) and, without an endpoint, asks a public web service for one. Linli
        # always has an endpoint and learns it is unreachable from the first call instead.
        host, _, port = str(self.options.end_point).rpartition(":")
        self.channel = Channel(host=host, port=int(port))
        # Puppet services read the token from the HTTP/2 :authority of each call (plaintext).
        self.channel._authority = self.options.token
        self._puppet_stub = PuppetStub(self.channel)

    @property
    def connected(self) -> bool:
        """Whether a channel is open."""
        return self._puppet_stub is not None

    def disconnect(self) -> None:
        """Close the channel; calls in flight fail and later ones fail fast."""
        if self.channel is not None:
            self.channel.close()
        self.channel, self._puppet_stub = None, None

    async def stop_service(self) -> None:
        """Tell the service we stop (what python-wechaty's stop() does, minus the cleanup)."""
        await self.puppet_stub.stop()

    async def image_file_box(self, message_id: str) -> str:
        """The FileBox JSON of a picture message, in full resolution if the service has it.

        Called on the stub: the library's FileBox parser calls the deprecated Logger.warn.
        """
        try:
            response = await self.puppet_stub.message_image(
                id=message_id, type=ImageType.IMAGE_TYPE_HD
            )
        except GRPCError as error:
            if error.status is not Status.UNIMPLEMENTED:
                raise
            response = await self.puppet_stub.message_file(id=message_id)
        return str(response.filebox)

    async def send_file_box(self, conversation_id: str, file_box: str) -> None:
        """Send a file given as FileBox JSON."""
        await self.puppet_stub.message_send_file(conversation_id=conversation_id, filebox=file_box)

    async def room_alias(self, room_id: str, contact_id: str) -> str:
        """The member's group nickname; empty when they have none or are not in the room."""
        try:
            member = await self.room_member_payload(room_id, contact_id)
        except GRPCError as error:
            if error.status is not Status.NOT_FOUND:
                raise
            return ""
        return str(member.room_alias or "")


def build_wechaty(wechaty: ModuleType, endpoint: str, token: str) -> tuple[PuppetClient, Any]:
    """The puppet client and python-wechaty's Wechaty object around it (not connected yet)."""
    options = PuppetOptions(token=token, end_point=endpoint)
    with warnings.catch_warnings():
        # pyee's relocated AsyncIOEventEmitter warns on construction (see the imports).
        warnings.simplefilter("ignore", DeprecationWarning)
        puppet = PuppetClient(options)
        bot = wechaty.Wechaty(wechaty.WechatyOptions(puppet=puppet, puppet_options=options))
    return puppet, bot


def safe_name(identifier: str) -> str:
    """`identifier` as a file name: odd characters replaced, length capped."""
    return _SAFE_NAME.sub("_", identifier)[:120] or "_"


def file_box_bytes(file_box: str, limit: int) -> bytes:
    """Decode a FileBox JSON (base64 inline, or a URL to fetch); blocking, run in a thread."""
    box = json.loads(file_box)
    if box.get("boxType") == _FILE_BOX_BASE64:
        data = base64.b64decode(box["base64"])
    elif box.get("boxType") == _FILE_BOX_URL and str(box.get("remoteUrl", "")).startswith(
        ("http://", "https://")
    ):
        with urllib.request.urlopen(box["remoteUrl"], timeout=30) as response:
            data = response.read(limit + 1)
    else:
        raise ValueError(f"unsupported FileBox type {box.get('boxType')!r}")
    if len(data) > limit:
        raise ValueError(f"file larger than {limit} bytes")
    return bytes(data)


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`, creating its folder; blocking, run in a thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def base64_file_box(name: str, data: bytes) -> str:
    """A FileBox JSON carrying `data` inline, for sending a file."""
    # Built by hand: FileBox.to_json_str() reads the deprecated `mimeType` property, which
    # calls Logger.warn.
    box = {"boxType": _FILE_BOX_BASE64, "name": name, "base64": base64.b64encode(data).decode()}
    return json.dumps({**box, "metadata": {}})


def kind_of(message_type: MessageType) -> MessageKind:
    """The puppet's message type as the kinds Linli tells apart."""
    if message_type == MessageType.MESSAGE_TYPE_TEXT:
        return MessageKind.TEXT
    if message_type == MessageType.MESSAGE_TYPE_IMAGE:
        return MessageKind.IMAGE
    if message_type == MessageType.MESSAGE_TYPE_AUDIO:
        return MessageKind.VOICE
    return MessageKind.OTHER


def describe(error: BaseException) -> str:
    """A puppet service failure for a log line: the gRPC status and message, if it has them."""
    if isinstance(error, GRPCError):
        return f"{error.status.name}: {error.message}"
    return repr(error)


def is_transient(error: Exception) -> bool:
    """Whether the failure may pass once the connection is back."""
    if isinstance(error, GRPCError):
        return error.status in _TRANSIENT_STATUSES
    # The library raises WechatyPuppetError when called between connections (no stub).
    return isinstance(error, (*CONNECTION_ERRORS, WechatyPuppetError))


def is_token_rejected(error: BaseException) -> bool:
    """Whether the puppet service refused the token."""
    return isinstance(error, GRPCError) and error.status is Status.UNAUTHENTICATED


def send_failure(error: Exception) -> DeliveryError:
    """A failed send as DeliveryError: permanent when the chat is gone or closed to the bot."""
    if isinstance(error, GRPCError):
        permanent = error.status in _PERMANENT_STATUSES
        return DeliveryError(f"WeChat refused: {describe(error)}", permanent=permanent)
    return DeliveryError(f"WeChat connection: {describe(error)}", permanent=False)
