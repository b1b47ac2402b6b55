"""Keeping the Telegram bot token out of log lines and error messages: Bot API URLs carry it."""

from __future__ import annotations

import logging


def redact(text: str, token: str) -> str:
    """Replace the bot token (and its secret half) wherever it appears."""
    for secret in (token, token.partition(":")[2]):
        if secret:
            text = text.replace(secret, "<token>")
    return text


def silence_url_logging() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the token."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class TokenRedactor(logging.Filter):
    """Rewrites records that would show the token (PTB logs its API URL at DEBUG)."""

    _LIBRARIES = ("telegram", "httpx", "httpcore", "tornado")

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message and any traceback text; never drops a record."""
        message = record.getMessage()
        redacted = redact(message, self._token)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            traceback_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(traceback_text, self._token)
        return True

    def library_loggers(self, own: str) -> list[logging.Logger]:
        """Our logger `own` and those of PTB and its HTTP stack (filters are per logger)."""
        names = {own, "telegram.Bot", "telegram.ext.ExtBot", *self._LIBRARIES}
        names.update(
            name
            for name in logging.root.manager.loggerDict
            if name.partition(".")[0] in self._LIBRARIES
        )
        return [logging.getLogger(name) for name in sorted(names)]
