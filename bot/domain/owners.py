"""The owners' register of a compound or building: units, exclusive areas, who owns what.

Parsed from the CSV of `linli owners import`; the basis of area and headcount in art. 278 votes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from bot.errors import InvalidInput

DEVELOPER_KEY = "developer"
"""Owner key shared by every unit the developer has not sold (or sold but not yet delivered)."""

_ProblemSink = Callable[[str, str], None]

REQUIRED_COLUMNS = ("room", "area", "owner", "phone")
OPTIONAL_COLUMNS = ("telegram_user_id", "wechat_id", "developer_unsold")

# Header spellings operators use in spreadsheets, folded with `_fold` before lookup.
_HEADER_SPELLINGS = {
    "room": "室号 房号 房间号",
    "area": "面积 专有面积 专有部分面积 建筑面积",
    "owner": "业主 业主姓名 姓名",
    "phone": "电话 手机 手机号 联系电话",
    "telegram_user_id": "telegram telegram_id",
    "wechat_id": "微信 微信号",
    "developer_unsold": "开发商未售 未售",
}
COLUMN_ALIASES: dict[str, str] = {
    spelling: column
    for column, spellings in _HEADER_SPELLINGS.items()
    for spelling in (column, *spellings.split())
}

_AREA = re.compile(r"(?P<number>-?\d+(?:\.\d+)?)\s*(?:㎡|m²|m2|平方米|平米)?")
_MOBILE = re.compile(r"(?:\+?86|0086)?(?P<number>1[3-9]\d{9})")
_LANDLINE = re.compile(r"0\d{9,11}")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")
_TELEGRAM_ID = re.compile(r"\d{1,20}")
_WECHAT_ID = re.compile(r"[^\s;,]{1,64}")
_ID_SEPARATORS = re.compile(r"[;；]")
_MIDDLE_DOTS = re.compile(r"[•・‧∙]")
_CENT = Decimal("0.01")
_TRUE = {"1", "true", "yes", "y", "是", "未售"}
_FALSE = {"", "0", "false", "no", "n", "否"}


def _fold(text: str) -> str:
    """NFKC (full-width to half-width), no surrounding spaces, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def normalize_room(room: str) -> str:
    """Room number as compared for duplicates: full-width folded, no spaces, case-folded."""
    return re.sub(r"\s+", "", _fold(room))


def normalize_phone(phone: str) -> str | None:
    """Digits of a mainland mobile (without +86) or landline (with area code); None if malformed."""
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", phone))
    if mobile := _MOBILE.fullmatch(digits):
        return mobile["number"]
    return digits if _LANDLINE.fullmatch(digits) else None


def normalize_owner_name(name: str) -> str:
    """Owner name as compared: NFKC-folded, no whitespace, middle dots unified (买买提·艾力)."""
    return _MIDDLE_DOTS.sub("·", re.sub(r"\s+", "", _fold(name)))


def owner_key(name: str, phone: str) -> str:
    """Who counts as "the same owner": the same normalised name and the same normalised phone.

    Name as `normalize_owner_name`, phone as `normalize_phone` (138-0013-8000 = +86 13800138000).
    Rows with equal keys are one 买受人 owning several units (法释〔2009〕7号 art. 9). The key is
    a hash, so ballots, audit records and logs never carry the name or the phone itself. The
    register knows no more than its rows: an owner listed with two different phones counts twice
    (`Register.possible_duplicates` finds them for the operator).
    """
    canonical = f"{normalize_owner_name(name)}|{normalize_phone(phone) or _fold(phone)}"
    return "owner:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class OwnerUnit:
    """One 专有部分 (unit) with its exclusive area in m² and its owner.

    `area` is the registered area (不动产登记簿), else the surveyed, else the contract area:
    法释〔2009〕7号 art. 8. `developer_unsold` marks units the developer has not sold, or sold
    but not delivered; they all belong to `DEVELOPER_KEY`.
    """

    room: str
    area: Decimal
    owner_name: str
    phone: str
    owner_key: str
    telegram_user_ids: tuple[str, ...] = ()
    wechat_ids: tuple[str, ...] = ()
    developer_unsold: bool = False


@dataclass(frozen=True, slots=True)
class Owner:
    """One voter of an owners' decision: every unit with the same owner key, taken together."""

    key: str
    name: str
    rooms: tuple[str, ...]
    area: Fraction


@dataclass(frozen=True, slots=True)
class Register:
    """The owners' register as imported from `source`; units keep the file's order."""

    units: tuple[OwnerUnit, ...]
    source: str = ""

    @property
    def total_area(self) -> Fraction:
        """Sum of all exclusive areas (法释〔2009〕7号 art. 8: 建筑物总面积 = 统计总和)."""
        return sum((Fraction(unit.area) for unit in self.units), Fraction(0))

    @property
    def total_heads(self) -> int:
        """Number of owners (法释〔2009〕7号 art. 9): one per unit, but one per owner key."""
        return len(self.owners())

    def owners(self) -> dict[str, Owner]:
        """Owners by key, in the order their first unit appears.

        法释〔2009〕7号 art. 9: 一个专有部分按一人计算, but the developer's unsold (or undelivered)
        units, and several units of the same buyer, count as one person.
        """
        rooms: dict[str, list[OwnerUnit]] = {}
        for unit in self.units:
            rooms.setdefault(unit.owner_key, []).append(unit)
        return {
            key: Owner(
                key=key,
                name=units[0].owner_name,
                rooms=tuple(unit.room for unit in units),
                area=sum((Fraction(unit.area) for unit in units), Fraction(0)),
            )
            for key, units in rooms.items()
        }

    def owner_of_room(self, room: str) -> str | None:
        """Owner key of a room (for paper ballots entered by staff), None if not registered."""
        wanted = normalize_room(room)
        return next((u.owner_key for u in self.units if normalize_room(u.room) == wanted), None)

    def owner_of_telegram_user(self, user_id: str) -> str | None:
        """Owner key bound to a Telegram user id, None if they are not in the register."""
        return next((u.owner_key for u in self.units if user_id in u.telegram_user_ids), None)

    def owner_of_wechat_user(self, wechat_id: str) -> str | None:
        """Owner key bound to a WeChat id, None if they are not in the register."""
        return next((u.owner_key for u in self.units if wechat_id in u.wechat_ids), None)

    def possible_duplicates(self) -> list[tuple[str, ...]]:
        """Rooms of owners who share a name but not a phone: the operator should check them."""
        by_name: dict[str, dict[str, list[str]]] = {}
        for unit in self.units:
            if not unit.developer_unsold:
                keys = by_name.setdefault(normalize_owner_name(unit.owner_name), {})
                keys.setdefault(unit.owner_key, []).append(unit.room)
        return [
            tuple(room for rooms in keys.values() for room in rooms)
            for keys in by_name.values()
            if len(keys) > 1
        ]

    def digest(self) -> str:
        """SHA-256 of the register's content, order-independent: equal files import as no-ops."""
        lines = sorted(
            "\t".join(
                (
                    normalize_room(u.room),
                    str(u.area),
                    u.owner_key,
                    ";".join(sorted(u.telegram_user_ids)),
                    ";".join(sorted(u.wechat_ids)),
                    "1" if u.developer_unsold else "0",
                )
            )
            for u in self.units
        )
        return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem of a register file: its line, the column (None for the whole row) and why."""

    line: int
    column: str | None
    message: str


class RegisterError(InvalidInput):
    """A register file with problems; nothing of it may be imported. `report()` is for operators."""

    def __init__(self, source: str, problems: Iterable[RowProblem]) -> None:
        self.source = source
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        super().__init__("register.invalid", count=len(self.problems))

    def report(self) -> str:
        """Every problem on its own line: `file:line: column 'x': message` (English)."""
        return "\n".join(
            f"{self.source}:{p.line}: " + (f"column '{p.column}': " if p.column else "") + p.message
            for p in self.problems
        )

    def __str__(self) -> str:
        return f"{len(self.problems)} problem(s) in {self.source}:\n{self.report()}"


def parse_register(text: str, source: str) -> Register:
    """Parse a register CSV (UTF-8, optional BOM) or raise RegisterError listing every bad row.

    Header (any order, English or Chinese names): room (室号), area (面积, m² with at most two
    decimals, optional unit ㎡), owner (业主), phone (电话, mobile or landline with area code);
    optional telegram_user_id, wechat_id (several separated by ';') and developer_unsold
    (1/0, yes/no, 是/否). Blank lines are skipped.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    problems: list[RowProblem] = []
    header = next(reader, None)
    columns = _read_header(header or [], problems)
    if problems:
        raise RegisterError(source, problems)
    units: list[tuple[int, OwnerUnit]] = []
    line = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            if len(row) != len(columns):
                problems.append(
                    RowProblem(line, None, f"expected {len(columns)} columns, found {len(row)}")
                )
            elif unit := _read_row(dict(zip(columns, row, strict=True)), line, problems):
                units.append((line, unit))
        line = reader.line_num + 1
    problems.extend(_cross_row_problems(units))
    if not units and not problems:
        problems.append(RowProblem(1, None, "the file has a header but no owner rows"))
    if problems:
        raise RegisterError(source, problems)
    return Register(units=tuple(unit for _, unit in units), source=source)


def _read_header(header: list[str], problems: list[RowProblem]) -> list[str]:
    if not any(cell.strip() for cell in header):
        problems.append(RowProblem(1, None, "empty file: expected a header row"))
        return []
    columns: list[str] = []
    for cell in header:
        column = COLUMN_ALIASES.get(_fold(cell))
        if column is None:
            problems.append(RowProblem(1, cell, "unknown column"))
        elif column in columns:
            problems.append(RowProblem(1, cell, f"column '{column}' appears twice"))
        columns.append(column or cell)
    for required in REQUIRED_COLUMNS:
        if required not in columns:
            problems.append(RowProblem(1, required, "required column is missing from the header"))
    return columns


def _read_row(cells: Mapping[str, str], line: int, problems: list[RowProblem]) -> OwnerUnit | None:
    found: list[RowProblem] = []

    def problem(column: str, message: str) -> None:
        found.append(RowProblem(line, column, message))

    room = unicodedata.normalize("NFKC", cells["room"]).strip()
    if not room:
        problem("room", "missing room")
    area = _read_area(cells["area"], problem)
    owner = unicodedata.normalize("NFKC", cells["owner"]).strip()
    if not owner:
        problem("owner", "missing owner name")
    unsold = _fold(cells.get("developer_unsold", ""))
    if unsold not in _TRUE | _FALSE:
        problem("developer_unsold", f"expected 1/0, yes/no or 是/否, got {unsold!r}")
    developer = unsold in _TRUE
    phone = normalize_phone(cells["phone"])
    if phone is None and (cells["phone"].strip() or not developer):
        problem("phone", f"not a mainland mobile or landline number: {cells['phone']!r}")
    telegram_ids = _read_ids(cells.get("telegram_user_id", ""), _TELEGRAM_ID, "telegram_user_id")
    wechat_ids = _read_ids(cells.get("wechat_id", ""), _WECHAT_ID, "wechat_id")
    for column, bad in (*telegram_ids[1], *wechat_ids[1]):
        problem(column, f"malformed id {bad!r}")
    problems.extend(found)
    if found or area is None:
        return None
    return OwnerUnit(
        room=room,
        area=area,
        owner_name=owner,
        phone=phone or "",
        owner_key=DEVELOPER_KEY if developer else owner_key(owner, phone or ""),
        telegram_user_ids=telegram_ids[0],
        wechat_ids=wechat_ids[0],
        developer_unsold=developer,
    )


def _read_area(raw: str, problem: _ProblemSink) -> Decimal | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    match = _AREA.fullmatch(text)
    if not text:
        problem("area", "missing area")
        return None
    if match is None:
        problem("area", f"not a number of square metres: {raw!r}")
        return None
    area = Decimal(match["number"])
    if area <= 0:
        problem("area", f"area must be positive, got {raw!r}")
        return None
    try:
        exact = area == area.quantize(_CENT)
    except InvalidOperation:  # more digits than Decimal's context holds: no real flat
        problem("area", f"area is implausibly large: {raw!r}")
        return None
    if not exact:
        problem("area", f"area has more than two decimals: {raw!r}")
        return None
    return area


def _read_ids(
    raw: str, pattern: re.Pattern[str], column: str
) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    ids = [part.strip() for part in _ID_SEPARATORS.split(raw) if part.strip()]
    bad = [(column, value) for value in ids if not pattern.fullmatch(value)]
    return tuple(dict.fromkeys(ids)), bad


def _cross_row_problems(units: list[tuple[int, OwnerUnit]]) -> list[RowProblem]:
    """Duplicate rooms, and platform ids that would let one person vote for two owners."""
    problems: list[RowProblem] = []
    rooms: dict[str, int] = {}
    ids: dict[tuple[str, str], tuple[int, str]] = {}
    for line, unit in units:
        room = normalize_room(unit.room)
        if room in rooms:
            message = f"duplicate room {unit.room!r} (first on line {rooms[room]})"
            problems.append(RowProblem(line, "room", message))
        rooms.setdefault(room, line)
        for column, values in (
            ("telegram_user_id", unit.telegram_user_ids),
            ("wechat_id", unit.wechat_ids),
        ):
            for value in values:
                first = ids.setdefault((column, value), (line, unit.owner_key))
                if first[1] != unit.owner_key:
                    message = f"id {value!r} already belongs to another owner (line {first[0]})"
                    problems.append(RowProblem(line, column, message))
    return problems
