"""The [wechat] and [telegram] config sections: pacing and connection settings, never secrets."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from config.reader import Invalid, TableReader, show


@dataclass(frozen=True, slots=True)
class WechatSettings:
    """Send pacing and connection supervision for the WeChat adapter."""

    min_interval_per_room_seconds: float = 3.0
    min_interval_overall_seconds: float = 1.5
    jitter_seconds: float = 2.0
    daily_cap: int = 500
    watchdog_seconds: float = 120
    reconnect_max_backoff_seconds: float = 60


class TelegramMode(StrEnum):
    """How Telegram delivers updates."""

    POLLING = "polling"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """Update delivery and send limits for the Telegram adapter (the token is a secret)."""

    mode: TelegramMode = TelegramMode.POLLING
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    per_group_per_minute: int = 20
    overall_per_second: float = 25


_WECHAT, _TELEGRAM = WechatSettings(), TelegramSettings()


def read_wechat(root: TableReader) -> WechatSettings:
    """[wechat]: intervals must be positive, jitter may be zero."""
    table = root.table("wechat", [item.name for item in fields(WechatSettings)])

    def positive(name: str) -> float:
        return table.number(name, getattr(_WECHAT, name), minimum=0, above_minimum=True)

    return WechatSettings(
        min_interval_per_room_seconds=positive("min_interval_per_room_seconds"),
        min_interval_overall_seconds=positive("min_interval_overall_seconds"),
        jitter_seconds=table.number("jitter_seconds", _WECHAT.jitter_seconds, minimum=0),
        daily_cap=table.integer("daily_cap", _WECHAT.daily_cap, minimum=1),
        watchdog_seconds=positive("watchdog_seconds"),
        reconnect_max_backoff_seconds=positive("reconnect_max_backoff_seconds"),
    )


def read_telegram(root: TableReader) -> TelegramSettings:
    """[telegram]: webhook mode needs an http(s) `webhook_url`."""
    table = root.table("telegram", [item.name for item in fields(TelegramSettings)])
    mode = table.choice("mode", TelegramMode, _TELEGRAM.mode)
    url = table.optional_text("webhook_url")
    if url is not None and not url.startswith(("https://", "http://")):
        raise Invalid(table.at("webhook_url"), f"expected an https:// URL, got {show(url)}")
    if mode is TelegramMode.WEBHOOK and url is None:
        raise Invalid(table.at("mode"), 'expected webhook_url to be set when mode is "webhook"')
    return TelegramSettings(
        mode=mode,
        webhook_url=url,
        webhook_listen=table.text("webhook_listen", _TELEGRAM.webhook_listen),
        webhook_port=table.integer(
            "webhook_port", _TELEGRAM.webhook_port, minimum=1, maximum=65535
        ),
        per_group_per_minute=table.integer(
            "per_group_per_minute", _TELEGRAM.per_group_per_minute, minimum=1
        ),
        overall_per_second=table.number(
            "overall_per_second", _TELEGRAM.overall_per_second, minimum=0, above_minimum=True
        ),
    )
