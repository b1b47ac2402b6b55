"""Linli's configuration: one validated TOML file (`load_settings`) and secrets from the env."""

from __future__ import annotations

from config.environment import Secrets, demo_config_path, resolve_config_path
from config.platforms import (
    TelegramMode,
    TelegramSettings,
    WechatSettings,
)
from config.reader import ConfigError
from config.sections import (
    ClassifierSettings,
    Deadline,
    DeadlineSettings,
    DigestSettings,
    DuplicateSettings,
    FollowupSettings,
    QuietHours,
    RoutingSettings,
    StorageSettings,
)
from config.settings import Settings, load_settings
from config.visitor_days import DutyEntry, HolidayPolicy, VisitorDaySettings

__all__ = [
    "ClassifierSettings",
    "ConfigError",
    "Deadline",
    "DeadlineSettings",
    "DigestSettings",
    "DuplicateSettings",
    "DutyEntry",
    "FollowupSettings",
    "HolidayPolicy",
    "QuietHours",
    "RoutingSettings",
    "Secrets",
    "Settings",
    "StorageSettings",
    "TelegramMode",
    "TelegramSettings",
    "VisitorDaySettings",
    "WechatSettings",
    "demo_config_path",
    "load_settings",
    "resolve_config_path",
]
