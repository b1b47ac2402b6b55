"""Masks phone, ID card and plate numbers (138****5678) in everything Linli sends or logs.

Residents type numbers every way they can: full-width digits, spaces, dashes, dots and the
invisible characters that WeChat and copy-paste leave behind; all of them are caught here.
"""

from __future__ import annotations

import logging
import re
import unicodedata

# Between two digits of one number: spaces (incl. full-width and no-break), dashes, dots, and
# zero-width or direction marks.
_SEP = (
    r"[\s\-\u2010-\u2015\u2212\uff0d.\uff0e\u00b7\u30fb\u2022_/\u00ad\u034f\u180e"
    r"\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]*"
)
_D = r"\d"  # any Unicode decimal digit, full-width ０-９ included
_ID_18 = rf"{_D}(?:{_SEP}{_D}){{16}}{_SEP}[\dXxＸｘ]"
_ID_15 = rf"{_D}(?:{_SEP}{_D}){{14}}"
_PHONE = rf"(?:[+＋]?{_SEP}[8８]{_SEP}[6６]{_SEP})?[1１]{_SEP}[3-9３-９](?:{_SEP}{_D}){{9}}"
# Landlines: a 3-4 digit area code starting with 0, then a 7-8 digit number (021-62345678).
_LANDLINE = rf"[0０]{_SEP}[1-9１-９](?:{_SEP}{_D}){{1,2}}{_SEP}[2-9２-９](?:{_SEP}{_D}){{6,7}}"
_NUMBER = re.compile(
    rf"(?<!\d)(?:(?P<id>{_ID_18}|{_ID_15})|(?P<phone>{_PHONE})|(?P<landline>{_LANDLINE}))"
    rf"(?![\dXxＸｘ])"
)

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"(?P<head>[{_PROVINCES}]{_SEP}[A-Za-zＡ-Ｚａ-ｚ]){_SEP}(?P<tail>(?:[A-Za-z0-9Ａ-Ｚａ-ｚ０-９]"
    rf"{_SEP}){{4,5}}[A-Za-z0-9Ａ-Ｚａ-ｚ０-９])(?![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])"
)
_KEEP = re.compile(r"[0-9A-Za-z]")


def _plain(text: str) -> str:
    """Digits and letters only, in ASCII (full-width folded)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.digit(c)) if c.isdigit() else c.upper()
        for c in folded
        if c.isdigit() or _KEEP.match(c)
    )


def _mask_number(found: re.Match[str]) -> str:
    digits = _plain(found.group(0))
    if found.group("id") is not None or found.group("landline") is not None:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    national = digits[-11:]
    return f"{national[:3]}****{national[-4:]}"


def _mask_plate(found: re.Match[str]) -> str:
    head = unicodedata.normalize("NFKC", found.group("head"))
    head = head[0] + head[-1].upper()
    tail = _plain(found.group("tail"))
    return head + "*" * (len(tail) - 2) + tail[-2:]


def mask(text: str) -> str:
    """The text with every phone, ID card and plate number masked."""
    return _PLATE.sub(_mask_plate, _NUMBER.sub(_mask_number, text))


class MaskingFilter(logging.Filter):
    """A logging filter that masks the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the message by its masked form; never drops a record."""
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Mask every line written by the handlers of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
