"""A fake Wechaty puppet service: the gRPC protocol python-wechaty 0.10.7 speaks, on 127.0.0.1.

Tests script the WeChat side (contacts, rooms, messages, logins, dropped streams) and assert on
what the bot sent back. Built with grpclib from the betterproto stubs in `wechaty_grpc`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server, Stream
from wechaty_grpc.wechaty import puppet as pb

# The puppet service sends message types in ts-wechaty-puppet numbering (Text = 7, Image = 6)
# and python-wechaty maps them back to the protobuf enum, so the fake must do the same.
TS_MESSAGE_TYPE_AUDIO = 2
TS_MESSAGE_TYPE_IMAGE = 6
TS_MESSAGE_TYPE_TEXT = 7
TS_MESSAGE_TYPE_RECALLED = 13

# FileBox JSON box types (wechaty_puppet.file_box.type.FileBoxType).
FILE_BOX_BASE64 = 1

_UnaryFunc = Callable[[Any], Awaitable[Any]]


@dataclass
class FakeContact:
    """A WeChat user the fake knows."""

    contact_id: str
    name: str
    alias: str = ""


@dataclass
class FakeRoom:
    """A WeChat group; `aliases` are members' group nicknames (群昵称)."""

    room_id: str
    topic: str
    member_ids: list[str]
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeMessage:
    """A message as the puppet service stores it, with an image's bytes if it has one."""

    message_id: str
    ts_type: int
    text: str
    from_id: str
    room_id: str = ""
    to_id: str = ""
    mention_ids: list[str] = field(default_factory=list)
    timestamp: int = 0
    image: bytes | None = None
    filename: str = ""


@dataclass(frozen=True, slots=True)
class SentText:
    """A text the bot sent through MessageSendText."""

    conversation_id: str
    text: str
    mention_ids: tuple[str, ...]
    message_id: str
    at: float = field(default=0.0, compare=False)  # time.monotonic() when it arrived


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file the bot sent through MessageSendFile."""

    conversation_id: str
    name: str
    data: bytes
    message_id: str
    at: float = field(default=0.0, compare=False)  # time.monotonic() when it arrived


def _listening_socket(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio and grpclib only set TCP_NODELAY on sockets that say so,
    # and without it every call waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class FakePuppetService:
    """The WeChat side of the tests: a puppet service with scripted events and recorded sends."""

    def __init__(
        self,
        *,
        token: str = "fake-puppet-token",
        self_id: str = "wxid_linli_bot",
        self_name: str = "邻里小助手",
        heartbeat_seconds: float | None = None,
        start_time: int | None = None,
    ) -> None:
        self.token = token
        self.self_id = self_id
        self.contacts: dict[str, FakeContact] = {self_id: FakeContact(self_id, self_name)}
        self.rooms: dict[str, FakeRoom] = {}
        self.messages: dict[str, FakeMessage] = {}
        self.sent: list[SentText | SentFile] = []
        # Sends to let through before the next one is refused (see `fail_send`).
        self._failing_send: tuple[int, GRPCError] | None = None
        self.calls: list[str] = []
        self.logged_in = False
        self.event_streams_opened = 0
        self.events_delivered = 0
        self._heartbeat_seconds = heartbeat_seconds
        # Message timestamps count on from now, as a real puppet's (Linli skips messages
        # older than its message log).
        self._clock_seconds = int(time.time()) if start_time is None else start_time
        self._ids = itertools.count(1)
        self._pending: deque[pb.EventResponse] = deque()
        self._changed = asyncio.Condition()
        self._stream_generation = 0
        self._dropped_generation = 0
        self._silenced_generation = 0
        self._server: Server | None = None
        self._port = 0
        self._heartbeat_task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """`host:port` for WECHATY_PUPPET_SERVICE_ENDPOINT."""
        return f"127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return self._port

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1, on a free port unless told which."""
        sock = _listening_socket(port)
        self._port = sock.getsockname()[1]
        self._server = Server([self])
        await self._server.start(sock=sock)
        if self._heartbeat_seconds is not None:
            self._heartbeat_task = asyncio.create_task(self._beat(self._heartbeat_seconds))

    async def close(self) -> None:
        """Stop listening and end every open call."""
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            await asyncio.gather(self._heartbeat_task, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakePuppetService:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the WeChat world --------------------------------------------------------------------

    def add_contact(self, contact_id: str, name: str, alias: str = "") -> FakeContact:
        """Make a WeChat user known to the service."""
        contact = FakeContact(contact_id, name, alias)
        self.contacts[contact_id] = contact
        return contact

    def add_room(
        self,
        room_id: str,
        topic: str,
        member_ids: list[str],
        aliases: dict[str, str] | None = None,
    ) -> FakeRoom:
        """Make a group known; the bot is always a member."""
        members = [self.self_id, *[m for m in member_ids if m != self.self_id]]
        room = FakeRoom(room_id, topic, members, dict(aliases or {}))
        self.rooms[room_id] = room
        return room

    # -- scripted events ---------------------------------------------------------------------

    async def login(self) -> None:
        """The account logs in; streams opened later are told so when they open."""
        self.logged_in = True
        if self._stream_generation > 0:
            await self._emit(pb.EventType.EVENT_TYPE_LOGIN, {"contactId": self.self_id})

    async def logout(self, reason: str = "logged out on the phone") -> None:
        """The account logs out."""
        self.logged_in = False
        await self._emit(
            pb.EventType.EVENT_TYPE_LOGOUT, {"contactId": self.self_id, "data": reason}
        )

    async def heartbeat(self) -> None:
        """One heartbeat event."""
        await self._emit(pb.EventType.EVENT_TYPE_HEARTBEAT, {"data": "heartbeat"})

    async def say(
        self,
        room_id: str,
        from_id: str,
        text: str,
        *,
        mention_ids: list[str] | None = None,
        message_id: str | None = None,
    ) -> str:
        """Someone writes `text` in a room (or privately to the bot when `room_id` is "")."""
        message = FakeMessage(
            message_id=message_id or self._next_id("msg"),
            ts_type=TS_MESSAGE_TYPE_TEXT,
            text=text,
            from_id=from_id,
            room_id=room_id,
            to_id="" if room_id else self.self_id,
            mention_ids=list(mention_ids or []),
            timestamp=self._tick(),
        )
        return await self._deliver(message)

    async def send_image(
        self,
        room_id: str,
        from_id: str,
        data: bytes,
        *,
        filename: str = "photo.jpg",
        message_id: str | None = None,
    ) -> str:
        """Someone posts a picture."""
        message = FakeMessage(
            message_id=message_id or self._next_id("img"),
            ts_type=TS_MESSAGE_TYPE_IMAGE,
            text="",
            from_id=from_id,
            room_id=room_id,
            to_id="" if room_id else self.self_id,
            timestamp=self._tick(),
            image=data,
            filename=filename,
        )
        return await self._deliver(message)

    async def send_voice(
        self, room_id: str, from_id: str, *, seconds: int = 7, message_id: str | None = None
    ) -> str:
        """Someone sends a voice message; its text is the XML WeChat keeps about it."""
        message = FakeMessage(
            message_id=message_id or self._next_id("voice"),
            ts_type=TS_MESSAGE_TYPE_AUDIO,
            text=f'<msg><voicemsg endflag="1" length="{seconds * 1500}" voicelength="'
            f'{seconds * 1000}" clientmsgid="41" fromusername="{from_id}" /></msg>',
            from_id=from_id,
            room_id=room_id,
            to_id="" if room_id else self.self_id,
            timestamp=self._tick(),
        )
        return await self._deliver(message)

    def rewind(self, seconds: int) -> None:
        """The service's clock goes back: what it delivers next carries an older time, as
        history replayed after a reconnect does."""
        self._clock_seconds -= seconds

    async def replay(self, message_id: str) -> None:
        """The service delivers a message it already delivered (it does that after reconnects)."""
        if message_id not in self.messages:
            raise KeyError(message_id)
        await self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})

    async def join(self, room_id: str, invitee_ids: list[str], inviter_id: str) -> None:
        """Members are invited into a room."""
        room = self.rooms[room_id]
        room.member_ids.extend(i for i in invitee_ids if i not in room.member_ids)
        payload = {
            "inviteeIdList": invitee_ids,
            "inviterId": inviter_id,
            "roomId": room_id,
            "timestamp": self._tick(),
        }
        await self._emit(pb.EventType.EVENT_TYPE_ROOM_JOIN, payload)

    async def leave(self, room_id: str, removed_ids: list[str], remover_id: str) -> None:
        """Members are removed from a room (the bot too, if its id is in `removed_ids`)."""
        room = self.rooms[room_id]
        room.member_ids = [m for m in room.member_ids if m not in removed_ids]
        payload = {
            "removeeIdList": removed_ids,
            "removerId": remover_id,
            "roomId": room_id,
            "timestamp": self._tick(),
        }
        await self._emit(pb.EventType.EVENT_TYPE_ROOM_LEAVE, payload)

    async def drop_stream(self) -> None:
        """End the open event stream with UNAVAILABLE, as a crashing service does."""
        async with self._changed:
            self._dropped_generation = self._stream_generation
            self._changed.notify_all()

    async def silence_stream(self) -> None:
        """Keep the open event stream open but send nothing on it, not even heartbeats."""
        async with self._changed:
            self._silenced_generation = self._stream_generation
            self._changed.notify_all()

    # -- observation -------------------------------------------------------------------------

    def texts_to(self, conversation_id: str) -> list[str]:
        """Texts the bot sent to one room or user, in order."""
        return [
            s.text
            for s in self.sent
            if isinstance(s, SentText) and s.conversation_id == conversation_id
        ]

    async def wait_until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `condition()` holds after some call or event; fail after `within` s."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    # -- grpclib service ---------------------------------------------------------------------

    def __mapping__(self) -> dict[str, Handler]:
        unary: dict[str, tuple[_UnaryFunc, type[Any], type[Any]]] = {
            "Start": (self._start, pb.StartRequest, pb.StartResponse),
            "Stop": (self._stop, pb.StopRequest, pb.StopResponse),
            "Logout": (self._logout_rpc, pb.LogoutRequest, pb.LogoutResponse),
            "Ding": (self._ding, pb.DingRequest, pb.DingResponse),
            "ContactPayload": (
                self._contact_payload,
                pb.ContactPayloadRequest,
                pb.ContactPayloadResponse,
            ),
            "MessagePayload": (
                self._message_payload,
                pb.MessagePayloadRequest,
                pb.MessagePayloadResponse,
            ),
            "MessageImage": (self._message_image, pb.MessageImageRequest, pb.MessageImageResponse),
            "MessageFile": (self._message_file, pb.MessageFileRequest, pb.MessageFileResponse),
            "MessageSendText": (
                self._message_send_text,
                pb.MessageSendTextRequest,
                pb.MessageSendTextResponse,
            ),
            "MessageSendFile": (
                self._message_send_file,
                pb.MessageSendFileRequest,
                pb.MessageSendFileResponse,
            ),
            "RoomList": (self._room_list, pb.RoomListRequest, pb.RoomListResponse),
            "RoomPayload": (self._room_payload, pb.RoomPayloadRequest, pb.RoomPayloadResponse),
            "RoomMemberList": (
                self._room_member_list,
                pb.RoomMemberListRequest,
                pb.RoomMemberListResponse,
            ),
            "RoomMemberPayload": (
                self._room_member_payload,
                pb.RoomMemberPayloadRequest,
                pb.RoomMemberPayloadResponse,
            ),
        }
        mapping = {
            f"/wechaty.Puppet/{name}": Handler(
                self._unary(name, func, reply_type),
                Cardinality.UNARY_UNARY,
                request_type,
                reply_type,
            )
            for name, (func, request_type, reply_type) in unary.items()
        }
        mapping["/wechaty.Puppet/Event"] = Handler(
            self._event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse
        )
        return mapping

    def _unary(
        self, name: str, func: _UnaryFunc, reply_type: type[Any]
    ) -> Callable[[Stream[Any, Any]], Awaitable[None]]:
        async def handle(stream: Stream[Any, Any]) -> None:
            request = await stream.recv_message()
            reply = await func(request)
            assert isinstance(reply, reply_type)
            await stream.send_message(reply)
            await self._record(name)

        return handle

    async def _record(self, name: str) -> None:
        async with self._changed:
            self.calls.append(name)
            self._changed.notify_all()

    async def _start(self, _request: pb.StartRequest) -> pb.StartResponse:
        return pb.StartResponse()

    async def _stop(self, _request: pb.StopRequest) -> pb.StopResponse:
        return pb.StopResponse()

    async def _logout_rpc(self, _request: pb.LogoutRequest) -> pb.LogoutResponse:
        await self.logout("logout requested by the bot")
        return pb.LogoutResponse()

    async def _ding(self, request: pb.DingRequest) -> pb.DingResponse:
        await self._emit(pb.EventType.EVENT_TYPE_DONG, {"data": request.data})
        return pb.DingResponse()

    async def _contact_payload(self, request: pb.ContactPayloadRequest) -> Any:
        contact = self.contacts.get(request.id)
        if contact is None:
            raise GRPCError(Status.NOT_FOUND, f"no contact {request.id}")
        return pb.ContactPayloadResponse(
            id=contact.contact_id,
            name=contact.name,
            alias=contact.alias,
            type=pb.ContactType.CONTACT_TYPE_PERSONAL,
            friend=True,
        )

    async def _message_payload(self, request: pb.MessagePayloadRequest) -> Any:
        message = self._message(request.id)
        return pb.MessagePayloadResponse(
            id=message.message_id,
            filename=message.filename,
            text=message.text,
            timestamp=message.timestamp,
            type=message.ts_type,
            from_id=message.from_id,
            room_id=message.room_id,
            to_id=message.to_id,
            mention_ids=list(message.mention_ids),
        )

    async def _message_image(self, request: pb.MessageImageRequest) -> Any:
        return pb.MessageImageResponse(filebox=self._file_box(request.id))

    async def _message_file(self, request: pb.MessageFileRequest) -> Any:
        return pb.MessageFileResponse(filebox=self._file_box(request.id))

    def _file_box(self, message_id: str) -> str:
        message = self._message(message_id)
        if message.image is None:
            raise GRPCError(Status.FAILED_PRECONDITION, f"message {message_id} has no file")
        box = {
            "boxType": FILE_BOX_BASE64,
            "name": message.filename,
            "base64": base64.b64encode(message.image).decode("ascii"),
            "metadata": {},
        }
        return json.dumps(box)

    def _message(self, message_id: str) -> FakeMessage:
        message = self.messages.get(message_id)
        if message is None:
            raise GRPCError(Status.NOT_FOUND, f"no message {message_id}")
        return message

    def fail_send(self, error: GRPCError, *, after: int = 0) -> None:
        """Let `after` sends (text or file) through, then refuse the next one with `error`."""
        self._failing_send = (after, error)

    def _check_injected_send(self) -> None:
        if self._failing_send is None:
            return
        after, error = self._failing_send
        if after > 0:
            self._failing_send = (after - 1, error)
            return
        self._failing_send = None
        raise error

    async def _message_send_text(self, request: pb.MessageSendTextRequest) -> Any:
        self._check_conversation(request.conversation_id)
        self._check_injected_send()
        message_id = self._next_id("out")
        self.sent.append(
            SentText(
                request.conversation_id,
                request.text,
                tuple(request.mentonal_ids),
                message_id,
                time.monotonic(),
            )
        )
        return pb.MessageSendTextResponse(id=message_id)

    async def _message_send_file(self, request: pb.MessageSendFileRequest) -> Any:
        self._check_conversation(request.conversation_id)
        self._check_injected_send()
        box = json.loads(request.filebox)
        message_id = self._next_id("out")
        data = base64.b64decode(box["base64"])
        self.sent.append(
            SentFile(request.conversation_id, box["name"], data, message_id, time.monotonic())
        )
        return pb.MessageSendFileResponse(id=message_id)

    def _check_conversation(self, conversation_id: str) -> None:
        room = self.rooms.get(conversation_id)
        if room is not None and self.self_id not in room.member_ids:
            raise GRPCError(Status.PERMISSION_DENIED, f"not a member of {conversation_id}")
        if room is None and conversation_id not in self.contacts:
            raise GRPCError(Status.NOT_FOUND, f"no conversation {conversation_id}")

    async def _room_list(self, _request: pb.RoomListRequest) -> Any:
        ids = [r.room_id for r in self.rooms.values() if self.self_id in r.member_ids]
        return pb.RoomListResponse(ids=ids)

    async def _room_payload(self, request: pb.RoomPayloadRequest) -> Any:
        room = self._room(request.id)
        return pb.RoomPayloadResponse(
            id=room.room_id,
            topic=room.topic,
            owner_id=room.member_ids[-1],
            member_ids=list(room.member_ids),
        )

    async def _room_member_list(self, request: pb.RoomMemberListRequest) -> Any:
        return pb.RoomMemberListResponse(member_ids=list(self._room(request.id).member_ids))

    async def _room_member_payload(self, request: pb.RoomMemberPayloadRequest) -> Any:
        room = self._room(request.id)
        contact = self.contacts.get(request.member_id)
        if contact is None or request.member_id not in room.member_ids:
            raise GRPCError(Status.NOT_FOUND, f"{request.member_id} is not in {request.id}")
        return pb.RoomMemberPayloadResponse(
            id=contact.contact_id,
            name=contact.name,
            room_alias=room.aliases.get(contact.contact_id, ""),
        )

    def _room(self, room_id: str) -> FakeRoom:
        room = self.rooms.get(room_id)
        if room is None:
            raise GRPCError(Status.NOT_FOUND, f"no room {room_id}")
        return room

    async def _event(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        async with self._changed:
            # A new stream replaces the previous one, as the real service does; the old
            # handler notices and ends.
            self._stream_generation += 1
            generation = self._stream_generation
            self.event_streams_opened += 1
            self.calls.append("Event")
            self._changed.notify_all()
        if self.logged_in:
            # The service tells every new stream who is logged in.
            login = {"contactId": self.self_id}
            await stream.send_message(self._event_response(pb.EventType.EVENT_TYPE_LOGIN, login))
        while True:
            event = await self._next_event(generation)
            if event is None:
                return
            try:
                await stream.send_message(event)
            except BaseException:
                # Not delivered: keep it for the next stream, so a drop loses nothing.
                self._pending.appendleft(event)
                raise
            await self._count_delivery()

    async def _next_event(self, generation: int) -> Any:
        def ready() -> bool:
            return (
                self._dropped_generation == generation
                or self._stream_generation != generation
                or (bool(self._pending) and self._silenced_generation != generation)
            )

        async with self._changed:
            await self._changed.wait_for(ready)
            if self._dropped_generation == generation:
                raise GRPCError(Status.UNAVAILABLE, "event stream dropped")
            if self._stream_generation != generation:
                return None
            return self._pending.popleft()

    async def _count_delivery(self) -> None:
        async with self._changed:
            self.events_delivered += 1
            self._changed.notify_all()

    # -- helpers -----------------------------------------------------------------------------

    async def _deliver(self, message: FakeMessage) -> str:
        self.messages[message.message_id] = message
        await self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message.message_id})
        return message.message_id

    async def _emit(self, event_type: Any, payload: dict[str, Any]) -> None:
        async with self._changed:
            self._pending.append(self._event_response(event_type, payload))
            self._changed.notify_all()

    @staticmethod
    def _event_response(event_type: Any, payload: dict[str, Any]) -> Any:
        return pb.EventResponse(type=event_type, payload=json.dumps(payload))

    async def _beat(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            streaming = self._stream_generation > 0
            silenced = self._silenced_generation == self._stream_generation
            if self.logged_in and streaming and not silenced:
                await self.heartbeat()

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _tick(self) -> int:
        self._clock_seconds += 1
        return self._clock_seconds
