"""Settings of the WeChat adapter: the puppet service, send pacing, supervision and limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.adapters.wechat_pacing import PacingPolicy


@dataclass(frozen=True, slots=True)
class WechatOptions:
    """Connection, pacing and supervision settings for the WeChat adapter."""

    endpoint: str
    token: str = field(repr=False)
    data_dir: Path
    min_interval_per_room_seconds: float = 3.0
    min_interval_overall_seconds: float = 1.5
    jitter_seconds: float = 2.0
    daily_cap: int = 500
    watchdog_seconds: float = 120.0
    reconnect_max_backoff_seconds: float = 60.0
    reconnect_initial_backoff_seconds: float = 1.0
    shutdown_timeout_seconds: float = 3.0
    text_limit: int = 2000
    choices_ttl_seconds: float = 3 * 24 * 3600
    timezone_name: str = "Asia/Shanghai"
    random_seed: int | None = None
    handle_attempts: int = 3
    image_limit_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.token:
            # Without a token python-wechaty connects and then hangs without a word.
            raise ValueError("WeChat needs WECHATY_PUPPET_SERVICE_TOKEN")
        host, _, port = self.endpoint.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(
                f"WECHATY_PUPPET_SERVICE_ENDPOINT must be host:port, got {self.endpoint!r}"
            )

    def pacing_policy(self) -> PacingPolicy:
        """The pacing numbers, for SendPacer."""
        return PacingPolicy(
            min_interval_per_room_seconds=self.min_interval_per_room_seconds,
            min_interval_overall_seconds=self.min_interval_overall_seconds,
            jitter_seconds=self.jitter_seconds,
            daily_cap=self.daily_cap,
            timezone_name=self.timezone_name,
        )
