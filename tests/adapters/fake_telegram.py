"""An in-repo fake Telegram Bot API server: aiohttp on 127.0.0.1 on a free port.

It speaks the JSON of the Bot API that python-telegram-bot 22.8 expects (field names checked
against PTB's own classes), keeps chats, messages and files, and lets tests inject updates,
inject errors (429 with retry_after, ...) and inspect everything the bot sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import ClientError, ClientSession, ClientTimeout, web

Json = dict[str, object]

GROUP_ANONYMOUS_BOT_ID = 1087968824
CHANNEL_BOT_ID = 136817688
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# The update types Telegram delivers when a bot never chose its own `allowed_updates`.
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)
_SEND_METHODS = frozenset({"sendmessage", "sendphoto"})
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}")


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> Json:
        """The JSON body Telegram sends with this error."""
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


@dataclass(slots=True)
class FakeUser:
    """A Telegram user (or bot) known to the fake."""

    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False
    last_name: str | None = None

    def to_json(self) -> Json:
        """The `User` object."""
        data: Json = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if not self.is_bot:
            data["language_code"] = "zh-hans"
        return data


@dataclass(slots=True)
class FakeChat:
    """A chat known to the fake, with the bot's standing in it."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    bot_status: str = "member"
    migrated_to: int | None = None
    blocked_bot: bool = False
    admins: set[int] = field(default_factory=set)

    def to_json(self) -> Json:
        """The `Chat` object as it appears inside messages and updates."""
        data: Json = {"id": self.id, "type": self.type}
        if self.title is not None:
            data["title"] = self.title
        if self.first_name is not None:
            data["first_name"] = self.first_name
        if self.username is not None:
            data["username"] = self.username
        if self.type == "supergroup":
            data["is_forum"] = False
        return data

    def kind(self) -> str:
        """How Telegram names this chat in error descriptions."""
        return "supergroup chat" if self.type == "supergroup" else f"{self.type} chat"


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request the bot made: method (as called) and decoded parameters."""

    method: str
    params: dict[str, object]
    status: int


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message the bot delivered (sendMessage/sendPhoto)."""

    chat_id: int
    message_id: int
    method: str
    text: str | None
    caption: str | None
    photo_file_id: str | None
    buttons: tuple[tuple[str, str], ...]
    reply_to_message_id: int | None
    at: float  # time.monotonic() when the fake accepted it

    @property
    def body(self) -> str:
        """Text or caption, whichever the message carries."""
        return self.text if self.text is not None else (self.caption or "")


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes


@dataclass(frozen=True, slots=True)
class _FloodRule:
    limit: int
    period: float


class _Params:
    """Bot API parameters: form fields are strings (JSON for objects), JSON bodies are typed."""

    def __init__(self, raw: dict[str, object]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return name in self.raw and self.raw[name] not in ("", None)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(str(value))
        except ValueError:
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def required_int(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise ApiError(400, f"Bad Request: {name} is empty")
        return value

    def boolean(self, name: str) -> bool:
        value = self.raw.get(name)
        return value is True or str(value).lower() in ("true", "1")

    def json(self, name: str) -> object:
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
        return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_entities(text: str) -> list[Json]:
    """Entities Telegram computes for plain text: bot commands and @mentions (UTF-16 offsets)."""
    found: list[tuple[int, int, str]] = []
    for match in _COMMAND.finditer(text):
        found.append((match.start(), match.end(), "bot_command"))
    for match in _MENTION.finditer(text):
        if not any(start <= match.start() < end for start, end, _ in found):
            found.append((match.start(), match.end(), "mention"))
    return [
        {
            "type": kind,
            "offset": _utf16_len(text[:start]),
            "length": _utf16_len(text[start:end]),
        }
        for start, end, kind in sorted(found)
    ]


class FakeTelegram:
    """The fake Bot API server; use as `async with FakeTelegram() as fake:`."""

    def __init__(
        self,
        *,
        token: str = "123456789:AAFakeTokenForLinliTests_abcdefghij",
        bot_username: str = "LinliTestBot",
        flood_control: bool = True,
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot = FakeUser(int(token.split(":")[0]), "邻里", bot_username, is_bot=True)
        self.flood_control = flood_control
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.received: list[str] = []
        self.calls: list[ApiCall] = []
        self.sent: list[SentMessage] = []
        self.answered_callbacks: list[str] = []
        # The pop-up text each callback query was answered with ("" for none).
        self.callback_answers: dict[str, str] = {}
        self.too_many_requests = 0
        self.premature_retries = 0
        self.webhook_deliveries: list[int] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_failures = 0
        self._messages: dict[tuple[int, int], Json] = {}
        self._message_ids: dict[int, Iterator[int]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._callbacks: dict[str, bool] = {}
        self._pending: list[Json] = []
        self._confirmed: list[Json] = []
        self._update_ids = itertools.count(700_000_001)
        self._ids = itertools.count(1)
        self._allowed_updates = _DEFAULT_UPDATE_TYPES
        self._injected_errors: dict[str, deque[ApiError]] = {}
        self._passes_before_error: dict[str, int] = {}
        self._flood_until = 0.0
        self._group_windows: dict[int, deque[float]] = {}
        self._overall_window: deque[float] = deque()
        self._poll_generation = 0
        self._change_waiters: list[asyncio.Future[None]] = []
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.port = port

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on 127.0.0.1, on the port given or else on a free one."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = ClientSession(timeout=ClientTimeout(total=5))

    async def stop(self) -> None:
        """Answer waiting long polls, stop webhook delivery and close the server."""
        self._closing = True
        self._notify()
        await self._stop_webhook_delivery()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What to pass as TELEGRAM_API_BASE / PTB's `base_url`."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass as PTB's `base_file_url` (file downloads)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ----------------------------------------------------------------- world set-up

    def add_user(self, user_id: int, first_name: str, username: str | None = None) -> FakeUser:
        """Register a resident (also opens the private chat with the bot)."""
        user = FakeUser(user_id, first_name, username)
        self.users[user_id] = user
        self.chats[user_id] = FakeChat(user_id, "private", first_name=first_name, username=username)
        return user

    def add_group(
        self, chat_id: int, title: str, *, supergroup: bool = False, admins: tuple[int, ...] = ()
    ) -> FakeChat:
        """Register a group the bot is a member of."""
        chat = FakeChat(chat_id, "supergroup" if supergroup else "group", title=title)
        chat.admins.update(admins)
        self.chats[chat_id] = chat
        return chat

    def add_channel(self, chat_id: int, title: str, username: str | None = None) -> FakeChat:
        """Register a channel (the bot is an administrator there)."""
        chat = FakeChat(chat_id, "channel", title=title, username=username)
        chat.bot_status = "administrator"
        self.chats[chat_id] = chat
        return chat

    # ----------------------------------------------------------------- injecting updates

    def inject_update(self, payload: Json) -> int:
        """Queue one raw update (without `update_id`); returns the update id it got."""
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    def say(self, chat_id: int, user_id: int, text: str, *, reply_to: int | None = None) -> int:
        """A resident writes `text` in a chat; returns the message id."""
        message = self._new_message(chat_id, sender=self.users[user_id].to_json())
        self._set_text(message, text)
        if reply_to is not None:
            message["reply_to_message"] = self._as_reply(self._messages[(chat_id, reply_to)])
        self.inject_update({"message": message})
        return int(str(message["message_id"]))

    def say_as_anonymous_admin(self, chat_id: int, text: str) -> int:
        """An anonymous admin posts: `from` is GroupAnonymousBot and `sender_chat` the group."""
        sender = FakeUser(GROUP_ANONYMOUS_BOT_ID, "Group", "GroupAnonymousBot", is_bot=True)
        message = self._new_message(chat_id, sender=sender.to_json())
        message["sender_chat"] = self.chats[chat_id].to_json()
        self._set_text(message, text)
        self.inject_update({"message": message})
        return int(str(message["message_id"]))

    def say_as_channel(self, chat_id: int, channel_id: int, text: str) -> int:
        """A user writes in a group on behalf of a channel they own."""
        sender = FakeUser(CHANNEL_BOT_ID, "Channel", "Channel_Bot", is_bot=True)
        message = self._new_message(chat_id, sender=sender.to_json())
        message["sender_chat"] = self.chats[channel_id].to_json()
        self._set_text(message, text)
        self.inject_update({"message": message})
        return int(str(message["message_id"]))

    def post_in_channel(self, channel_id: int, text: str) -> int:
        """A channel post: no `from`, the channel is the sender."""
        message = self._new_message(channel_id, sender=None)
        message["sender_chat"] = self.chats[channel_id].to_json()
        self._set_text(message, text)
        self.inject_update({"channel_post": message})
        return int(str(message["message_id"]))

    def send_photo_from(self, chat_id: int, user_id: int, caption: str | None = None) -> str:
        """A resident sends a photo (3 sizes) with an optional caption; returns the big file id."""
        message = self._new_message(chat_id, sender=self.users[user_id].to_json())
        sizes = [self._store_photo(width, width * 3 // 4) for width in (90, 320, 1280)]
        message["photo"] = sizes
        if caption is not None:
            message["caption"] = caption
            entities = text_entities(caption)
            if entities:
                message["caption_entities"] = entities
        self.inject_update({"message": message})
        return str(sizes[-1]["file_id"])

    def send_voice_from(self, chat_id: int, user_id: int, seconds: int = 7) -> int:
        """A resident sends a voice message (an OGG/Opus recording); returns the message id."""
        message = self._new_message(chat_id, sender=self.users[user_id].to_json())
        unique = f"voice{message['message_id']}"
        message["voice"] = {
            "file_id": f"AwACAgUAAx0C{unique}",
            "file_unique_id": unique,
            "duration": seconds,
            "mime_type": "audio/ogg",
            "file_size": 4_000 * seconds,
        }
        self.inject_update({"message": message})
        return int(str(message["message_id"]))

    def edit(self, chat_id: int, message_id: int, new_text: str) -> None:
        """The author edits an earlier text message."""
        message = dict(self._messages[(chat_id, message_id)])
        message.pop("entities", None)
        self._set_text(message, new_text)
        message["edit_date"] = int(time.time())
        self._messages[(chat_id, message_id)] = message
        self.inject_update({"edited_message": message})

    def press_button(self, sent: SentMessage, user_id: int, label: str) -> str:
        """Someone presses the inline button labelled `label` under a bot message."""
        payloads = [payload for text, payload in sent.buttons if text == label]
        if not payloads:
            raise AssertionError(f"no button {label!r} under message {sent.message_id}")
        return self.press_raw(sent.chat_id, sent.message_id, user_id, payloads[0])

    def press_raw(self, chat_id: int, message_id: int, user_id: int, data: str) -> str:
        """A callback query with arbitrary data from the message `message_id`."""
        query_id = str(4_000_000_000_000_000_000 + next(self._ids))
        self._callbacks[query_id] = False
        self.inject_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.users[user_id].to_json(),
                    "message": self._messages[(chat_id, message_id)],
                    "chat_instance": str(-(abs(chat_id) * 7919 % 10**18)),
                    "data": data,
                }
            }
        )
        return query_id

    def join(self, chat_id: int, user_id: int) -> int:
        """A resident joins a group (service message with `new_chat_members`)."""
        user = self.users[user_id].to_json()
        message = self._new_message(chat_id, sender=user)
        message["new_chat_members"] = [user]
        self.inject_update({"message": message})
        return int(str(message["message_id"]))

    def migrate(self, old_chat_id: int, new_chat_id: int, by_user_id: int) -> None:
        """The group becomes a supergroup: both service messages, and the old id stops working."""
        old = self.chats[old_chat_id]
        new = FakeChat(new_chat_id, "supergroup", title=old.title, admins=set(old.admins))
        self.chats[new_chat_id] = new
        old.migrated_to = new_chat_id
        user = self.users[by_user_id].to_json()
        last = self._new_message(old_chat_id, sender=user)
        last["migrate_to_chat_id"] = new_chat_id
        self.inject_update({"message": last})
        first = self._new_message(new_chat_id, sender=user)
        first["migrate_from_chat_id"] = old_chat_id
        self.inject_update({"message": first})

    def kick_bot(self, chat_id: int, by_user_id: int) -> None:
        """An admin removes the bot: `my_chat_member` to kicked (supergroup) or left (group)."""
        chat = self.chats[chat_id]
        new_status = "kicked" if chat.type in ("supergroup", "channel") else "left"
        new_member: Json = {"status": new_status, "user": self.bot.to_json()}
        if new_status == "kicked":
            new_member["until_date"] = 0
        update: Json = {
            "chat": chat.to_json(),
            "from": self.users[by_user_id].to_json(),
            "date": int(time.time()),
            "old_chat_member": {"status": chat.bot_status, "user": self.bot.to_json()},
            "new_chat_member": new_member,
        }
        chat.bot_status = new_status
        self.inject_update({"my_chat_member": update})

    def block_bot(self, user_id: int) -> None:
        """A resident blocks the bot in their private chat."""
        self.chats[user_id].blocked_bot = True

    # ----------------------------------------------------------------- injecting failures

    def fail_next(self, method: str, error: ApiError, *, after: int = 0) -> None:
        """The next call of `method` fails with `error` (queued; one error per call), after
        letting `after` calls through."""
        self._injected_errors.setdefault(method.lower(), deque()).append(error)
        self._passes_before_error[method.lower()] = after

    def inject_flood(self, method: str = "sendMessage", retry_after: int = 1) -> None:
        """The next `method` call gets a 429; sends before `retry_after` s passed get one too."""
        self.fail_next(method, _too_many_requests(retry_after))

    def redeliver_last(self, count: int) -> None:
        """Forget that the last `count` updates were confirmed, as after a crash mid-batch."""
        if count:
            again, self._confirmed = self._confirmed[-count:], self._confirmed[:-count]
            self._pending = again + self._pending
            self._notify()

    # ----------------------------------------------------------------- inspecting

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed by the bot (copies of the raw JSON)."""
        return [json.loads(json.dumps(update)) for update in self._pending]

    def calls_of(self, method: str) -> list[ApiCall]:
        """All requests of one method (case-insensitive)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot delivered into one chat."""
        return [message for message in self.sent if message.chat_id == chat_id]

    def message(self, chat_id: int, message_id: int) -> Json:
        """The stored `Message` object (as last edited)."""
        return self._messages[(chat_id, message_id)]

    async def wait_for(
        self, predicate: Callable[[], bool], *, within: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until `predicate()` holds after some request or injection; fail after `within` s."""
        try:
            async with asyncio.timeout(within):
                while not predicate():
                    await self._next_change()
        except TimeoutError:
            raise AssertionError(f"fake Telegram: timed out waiting for {what}") from None

    async def wait_for_sent(self, count: int, *, within: float = 5.0) -> list[SentMessage]:
        """Wait until the bot delivered at least `count` messages in total."""
        await self.wait_for(lambda: len(self.sent) >= count, within=within, what=f"{count} sent")
        return self.sent

    async def wait_until_confirmed(self, *, within: float = 5.0) -> None:
        """Wait until the bot confirmed (fetched past) every queued update."""
        await self.wait_for(lambda: not self._pending, within=within, what="updates confirmed")

    # ----------------------------------------------------------------- HTTP plumbing

    def _notify(self) -> None:
        waiters, self._change_waiters = self._change_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _next_change(self, within: float | None = None) -> None:
        """Wait for the next request, injection or delivery (or `within` seconds)."""
        # The future is registered before the first await, so no change can slip by.
        waiter = asyncio.get_running_loop().create_future()
        self._change_waiters.append(waiter)
        try:
            async with asyncio.timeout(within):
                await waiter
        except TimeoutError:
            pass
        finally:
            if waiter in self._change_waiters:
                self._change_waiters.remove(waiter)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.received.append(method)
        self._notify()
        try:
            params = await self._read_params(request)
        except ConnectionResetError:
            # The bot gave up on this request (cancelled at shutdown) while sending it.
            return web.Response(status=499)
        if request.match_info["token"] != self.token:
            return self._respond(method, params, ApiError(401, "Unauthorized").body(), 401)
        handler = self._handlers().get(method.lower())
        if handler is None:
            return self._respond(method, params, ApiError(404, "Not Found").body(), 404)
        try:
            self._check_injected(method.lower())
            result = await handler(_Params(params))
        except ApiError as error:
            if error.code == 429:
                self.too_many_requests += 1
            return self._respond(method, params, error.body(), error.code)
        return self._respond(method, params, {"ok": True, "result": result}, 200)

    def _respond(
        self, method: str, params: dict[str, object], body: Json, status: int
    ) -> web.Response:
        self.calls.append(ApiCall(method, params, status))
        self._notify()
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> dict[str, object]:
        params: dict[str, object] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.can_read_body:
            for name, value in (await request.post()).items():
                params[name] = value.file.read() if isinstance(value, web.FileField) else value
        return params

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        for stored in self._files.values():
            if stored.file_path == request.match_info["path"]:
                return web.Response(body=stored.content, content_type="image/jpeg")
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    def _check_injected(self, method: str) -> None:
        queue = self._injected_errors.get(method)
        if queue and self._passes_before_error.get(method, 0) > 0:
            self._passes_before_error[method] -= 1
        elif queue:
            error = queue.popleft()
            if error.code == 429 and error.parameters:
                retry_after = int(str(error.parameters["retry_after"]))
                self._flood_until = time.monotonic() + retry_after
            raise error
        if method in _SEND_METHODS and time.monotonic() < self._flood_until:
            # Telegram answers a request sent during a flood wait with another 429.
            self.premature_retries += 1
            raise _too_many_requests(math.ceil(self._flood_until - time.monotonic()))

    def _handlers(self) -> dict[str, Callable[[_Params], Awaitable[object]]]:
        return {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getfile": self._get_file,
        }

    # ----------------------------------------------------------------- methods: updates

    async def _true(self, params: _Params) -> object:
        return True

    async def _get_me(self, params: _Params) -> object:
        return {
            **self.bot.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: _Params) -> object:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._set_allowed(params)
        offset = params.integer("offset", 0) or 0
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        self._confirm(offset)
        timeout = float(params.integer("timeout", 0) or 0)
        deadline = time.monotonic() + timeout
        while not self._deliverable() and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self._next_change(remaining)
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        return self._deliverable()[:limit]

    def _set_allowed(self, params: _Params) -> None:
        if params.has("allowed_updates"):
            chosen = params.json("allowed_updates")
            if isinstance(chosen, list):
                self._allowed_updates = frozenset(str(item) for item in chosen) or (
                    _DEFAULT_UPDATE_TYPES
                )

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = self._pending[offset:]
            self._confirmed.extend(self._pending[: len(self._pending) - len(keep)])
            self._pending = keep
        elif offset > 0:
            done = [u for u in self._pending if int(str(u["update_id"])) < offset]
            self._confirmed.extend(done)
            self._pending = [u for u in self._pending if int(str(u["update_id"])) >= offset]

    def _deliverable(self) -> list[Json]:
        # Updates of types the bot did not ask for are dropped, as Telegram does.
        kept = [u for u in self._pending if self._update_type(u) in self._allowed_updates]
        self._confirmed.extend(u for u in self._pending if u not in kept)
        self._pending = kept
        return kept

    @staticmethod
    def _update_type(update: Json) -> str:
        return next(key for key in update if key != "update_id")

    async def _set_webhook(self, params: _Params) -> object:
        url = params.text("url", "") or ""
        if url and not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: invalid webhook URL specified")
        if params.boolean("drop_pending_updates") and self._pending:
            self._confirm(self._pending_tail_offset())
        self._set_allowed(params)
        await self._stop_webhook_delivery()
        self.webhook_url = url
        self.webhook_secret = params.text("secret_token")
        if url:
            self._webhook_task = asyncio.create_task(self._deliver_by_webhook())
        return True

    def _pending_tail_offset(self) -> int:
        return int(str(self._pending[-1]["update_id"])) + 1

    async def _delete_webhook(self, params: _Params) -> object:
        await self._stop_webhook_delivery()
        self.webhook_url, self.webhook_secret = "", None
        if params.boolean("drop_pending_updates") and self._pending:
            self._confirm(self._pending_tail_offset())
        return True

    async def _get_webhook_info(self, params: _Params) -> object:
        info: Json = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _stop_webhook_delivery(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None

    async def _deliver_by_webhook(self) -> None:
        """Post pending updates one by one to the webhook URL, as Telegram does."""
        assert self._session is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
        while not self._closing:
            updates = self._deliverable()
            if not updates:
                await self._next_change()
                continue
            update = updates[0]
            try:
                async with self._session.post(
                    self.webhook_url, json=update, headers=headers
                ) as response:
                    delivered = 200 <= response.status < 300
            except (OSError, ClientError):  # refused, or cut off before it answered
                delivered = False
            if delivered:
                self.webhook_deliveries.append(int(str(update["update_id"])))
                self._confirm(int(str(update["update_id"])) + 1)
                self._notify()
            else:
                self.webhook_failures += 1
                await asyncio.sleep(0.2)

    # ----------------------------------------------------------------- methods: sending

    async def _send_message(self, params: _Params) -> object:
        chat = self._writable_chat(params)
        text = params.text("text", "") or ""
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        message = self._bot_message(chat, params)
        message["text"] = text
        return self._record_sent(chat, message, "sendMessage")

    async def _send_photo(self, params: _Params) -> object:
        chat = self._writable_chat(params)
        caption = params.text("caption")
        if caption is not None and _utf16_len(caption) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        photo = params.raw.get("photo")
        if isinstance(photo, bytes):
            sizes = [self._store_photo(90, 67, photo), self._store_photo(1280, 960, photo)]
        elif isinstance(photo, str) and photo in self._files:
            sizes = [self._photo_size(self._files[photo], 1280, 960)]
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        message = self._bot_message(chat, params)
        message["photo"] = sizes
        if caption:
            message["caption"] = caption
        return self._record_sent(chat, message, "sendPhoto")

    def _writable_chat(self, params: _Params) -> FakeChat:
        chat = self._chat(params)
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.kind()}")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.kind()}")
        if chat.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        self._check_flood(chat)
        return chat

    def _chat(self, params: _Params) -> FakeChat:
        chat = self.chats.get(params.integer("chat_id", 0) or 0)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _check_flood(self, chat: FakeChat) -> None:
        if not self.flood_control:
            return
        now = time.monotonic()
        rules = [(self._overall_window, _FloodRule(30, 1.0))]
        if chat.id < 0:
            rules.append((self._group_windows.setdefault(chat.id, deque()), _FloodRule(20, 60.0)))
        for window, rule in rules:
            while window and window[0] <= now - rule.period:
                window.popleft()
            if len(window) >= rule.limit:
                retry_after = max(1, math.ceil(window[0] + rule.period - now))
                raise _too_many_requests(retry_after)
        for window, _ in rules:
            window.append(now)

    def _bot_message(self, chat: FakeChat, params: _Params) -> Json:
        message = self._new_message(chat.id, sender=self.bot.to_json())
        reply_to = self._reply_target(chat, params)
        if reply_to is not None:
            message["reply_to_message"] = self._as_reply(reply_to)
        markup = params.json("reply_markup")
        if markup is not None:
            message["reply_markup"] = self._checked_markup(markup)
        return message

    def _reply_target(self, chat: FakeChat, params: _Params) -> Json | None:
        reply = params.json("reply_parameters")
        if not isinstance(reply, dict):
            return None
        target = self._messages.get((chat.id, int(reply["message_id"])))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    @staticmethod
    def _checked_markup(markup: object) -> Json:
        if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup["inline_keyboard"]:
            for button in row:
                data = str(button.get("callback_data", ""))
                if not button.get("text") or not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _record_sent(self, chat: FakeChat, message: Json, method: str) -> Json:
        markup = message.get("reply_markup")
        buttons: list[tuple[str, str]] = []
        if isinstance(markup, dict):
            for row in markup["inline_keyboard"]:
                buttons.extend((str(b["text"]), str(b["callback_data"])) for b in row)
        reply = message.get("reply_to_message")
        photo = message.get("photo")
        self.sent.append(
            SentMessage(
                chat_id=chat.id,
                message_id=int(str(message["message_id"])),
                method=method,
                text=str(message["text"]) if "text" in message else None,
                caption=str(message["caption"]) if "caption" in message else None,
                photo_file_id=str(photo[-1]["file_id"]) if isinstance(photo, list) else None,
                buttons=tuple(buttons),
                reply_to_message_id=int(str(reply["message_id"]))
                if isinstance(reply, dict)
                else None,
                at=time.monotonic(),
            )
        )
        return message

    async def _edit_message_text(self, params: _Params) -> object:
        message = self._own_message(params)
        text = params.text("text", "") or ""
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = params.json("reply_markup")
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = text
        self._replace_markup(message, markup)
        return message

    async def _edit_message_reply_markup(self, params: _Params) -> object:
        message = self._own_message(params)
        markup = params.json("reply_markup")
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        self._replace_markup(message, markup)
        return message

    def _own_message(self, params: _Params) -> Json:
        chat = self._chat(params)
        message = self._messages.get((chat.id, params.required_int("message_id")))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        sender = message.get("from")
        if not isinstance(sender, dict) or sender.get("id") != self.bot.id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _replace_markup(self, message: Json, markup: object) -> None:
        if markup is None or markup == {"inline_keyboard": []}:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = self._checked_markup(markup)
        message["edit_date"] = int(time.time())

    async def _answer_callback_query(self, params: _Params) -> object:
        query_id = params.text("callback_query_id", "") or ""
        if self._callbacks.get(query_id, True):
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._callbacks[query_id] = True
        self.answered_callbacks.append(query_id)
        self.callback_answers[query_id] = params.text("text", "") or ""
        return True

    # ----------------------------------------------------------------- methods: lookups

    async def _get_chat(self, params: _Params) -> object:
        chat = self._chat(params)
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.kind()}")
        info: Json = {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.type != "private":
            info["permissions"] = {"can_send_messages": True, "can_send_photos": True}
        return info

    async def _get_chat_member(self, params: _Params) -> object:
        chat = self._chat(params)
        user_id = params.required_int("user_id")
        if user_id == self.bot.id:
            return {"status": chat.bot_status, "user": self.bot.to_json()}
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        if user_id in chat.admins:
            return self._administrator(user)
        return {"status": "member", "user": user.to_json()}

    @staticmethod
    def _administrator(user: FakeUser) -> Json:
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        )
        return {
            "status": "administrator",
            "user": user.to_json(),
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
            **dict.fromkeys(rights, True),
        }

    async def _get_file(self, params: _Params) -> object:
        stored = self._files.get(params.text("file_id", "") or "")
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    # ----------------------------------------------------------------- building objects

    def _new_message(self, chat_id: int, *, sender: Json | None) -> Json:
        ids = self._message_ids.setdefault(chat_id, itertools.count(1))
        message: Json = {
            "message_id": next(ids),
            "date": int(time.time()),
            "chat": self.chats[chat_id].to_json(),
        }
        if sender is not None:
            message["from"] = sender
        self._messages[(chat_id, int(str(message["message_id"])))] = message
        return message

    @staticmethod
    def _as_reply(message: Json) -> Json:
        # A replied-to message never carries its own `reply_to_message`.
        return {key: value for key, value in message.items() if key != "reply_to_message"}

    @staticmethod
    def _set_text(message: Json, text: str) -> None:
        message["text"] = text
        entities = text_entities(text)
        if entities:
            message["entities"] = entities

    def _store_photo(self, width: int, height: int, content: bytes | None = None) -> Json:
        number = next(self._ids)
        stored = _StoredFile(
            file_id=f"AgACAgUAAxkBAAI{number:08d}Fake",
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"photos/file_{number}.jpg",
            content=content if content is not None else b"\xff\xd8\xff\xe0fake-jpeg" * width,
        )
        self._files[stored.file_id] = stored
        return self._photo_size(stored, width, height)

    @staticmethod
    def _photo_size(stored: _StoredFile, width: int, height: int) -> Json:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "width": width,
            "height": height,
        }
