"""What Linli takes from the environment: the config file's location and the platform secrets.

This is the only module that looks at environment variables; callers pass `os.environ` in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

CONFIG_ENV_VAR = "LINLI_CONFIG"


def demo_config_path() -> Path:
    """The demo community shipped inside the `config` package (works when installed)."""
    return Path(__file__).resolve().with_name("demo.toml")


def resolve_config_path(cli_path: str | None, environ: Mapping[str, str]) -> Path:
    """`--config PATH`, else $LINLI_CONFIG, else the shipped demo config."""
    if cli_path:
        return Path(cli_path).expanduser()
    from_environ = environ.get(CONFIG_ENV_VAR, "").strip()
    if from_environ:
        return Path(from_environ).expanduser()
    return demo_config_path()


@dataclass(frozen=True, slots=True, repr=False)
class Secrets:
    """Platform credentials; an empty variable counts as unset. repr() never shows a value."""

    telegram_bot_token: str | None = None
    telegram_api_base: str | None = None
    telegram_webhook_secret: str | None = None
    wechaty_puppet_service_token: str | None = None
    wechaty_puppet_service_endpoint: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Secrets:
        """Read TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE, TELEGRAM_WEBHOOK_SECRET, WECHATY_PUPPET_*."""
        values = {item.name: environ.get(item.name.upper(), "").strip() for item in fields(cls)}
        return cls(**{name: value or None for name, value in values.items()})

    @property
    def telegram_enabled(self) -> bool:
        """Telegram starts when its bot token is set."""
        return self.telegram_bot_token is not None

    @property
    def wechat_enabled(self) -> bool:
        """WeChat starts when both the puppet service token and endpoint are set."""
        return (
            self.wechaty_puppet_service_token is not None
            and self.wechaty_puppet_service_endpoint is not None
        )

    def __repr__(self) -> str:
        # Only whether each value is set: a repr ends up in logs and tracebacks.
        shown = ", ".join(
            f"{item.name}={'<set>' if getattr(self, item.name) else '<unset>'}"
            for item in fields(self)
        )
        return f"Secrets({shown})"
