"""The optional config sections for storage, the classifier, the ticket loop and schedules.

Each section is a frozen dataclass whose defaults are the safe values used when it is absent.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from bot.domain.community import Role
from bot.events import RequestType
from config.reader import Invalid, TableReader, show, to_enum

# Platforms redeliver for a day (Telegram) or replay recent history (WeChat): a week is the
# least log that still recognises every repeat; ten years is "keep it".
MIN_MESSAGE_LOG_DAYS, MAX_MESSAGE_LOG_DAYS = 7, 3650
ROUTED_TYPES = tuple(kind for kind in RequestType if kind is not RequestType.NONE)
ROUTABLE_ROLES = tuple(role for role in Role if role not in (Role.RESIDENT, Role.REPORTER))


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Where Linli keeps its data; relative paths are relative to the working directory."""

    database: str = "sqlite+aiosqlite:///data/linli.db"
    data_dir: Path = Path("data")
    # How long the message log (the inbox's redelivery records and the messages sent) is kept.
    keep_message_log_days: int = 90

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for a SQLite URL (None for other databases and `:memory:`)."""
        scheme, _, rest = self.database.partition("://")
        location = rest.partition("?")[0][1:]  # drop the empty host before the path
        if scheme.split("+")[0] != "sqlite" or location in ("", ":memory:"):
            return None
        return Path(location)


@dataclass(frozen=True, slots=True)
class ClassifierSettings:
    """Below `confirm_below` confidence the bot asks a question instead of guessing.

    `worker_processes` > 0 classifies in that many worker processes instead of on the event
    loop (bot/classifying.py), 0 on the loop; None ("auto", the default) starts one worker when
    the machine has two or more cores for Linli, so the loop keeps one to itself, and memory
    to spare for it (`WORKER_MEMORY`).
    """

    confirm_below: float = 0.55
    question_timeout_minutes: int = 30
    worker_processes: int | None = None

    @property
    def workers(self) -> int:
        """The worker processes to start: `worker_processes`, or "auto" decided here."""
        if self.worker_processes is not None:
            return self.worker_processes
        if usable_cores() < 2:
            return 0
        room = free_memory()
        return 1 if room is None or room >= WORKER_MEMORY else 0

    @property
    def question_timeout(self) -> dt.timedelta:
        """How long an unanswered clarifying question stays open."""
        return dt.timedelta(minutes=self.question_timeout_minutes)


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """Per request type, the roles (at the ticket's node and above) that handle it."""

    repair: tuple[Role, ...] = (Role.PROPERTY, Role.GRID_WORKER)
    complaint: tuple[Role, ...] = (Role.COMPOUND_SECRETARY,)
    incident: tuple[Role, ...] = (Role.GRID_WORKER,)
    dispute: tuple[Role, ...] = (Role.BUILDING_LEADER, Role.COMPOUND_SECRETARY)
    inquiry: tuple[Role, ...] = (Role.GRID_WORKER,)
    suggestion: tuple[Role, ...] = (Role.COMPOUND_SECRETARY,)

    def roles_for(self, request_type: RequestType) -> tuple[Role, ...]:
        """The responsible roles in order; empty for `none`."""
        if request_type is RequestType.NONE:
            return ()
        roles: tuple[Role, ...] = getattr(self, request_type.value)
        return roles


@dataclass(frozen=True, slots=True)
class Deadline:
    """Hours to respond (accept) and to resolve a ticket."""

    respond_hours: float
    resolve_hours: float

    @property
    def respond(self) -> dt.timedelta:
        """Time allowed until the ticket must be accepted."""
        return dt.timedelta(hours=self.respond_hours)

    @property
    def resolve(self) -> dt.timedelta:
        """Time allowed until the ticket must be resolved."""
        return dt.timedelta(hours=self.resolve_hours)


@dataclass(frozen=True, slots=True)
class DeadlineSettings:
    """Deadlines per request type; `urgent` overrides the type for urgent tickets."""

    urgent: Deadline = Deadline(2, 24)
    repair: Deadline = Deadline(24, 72)
    complaint: Deadline = Deadline(24, 168)
    incident: Deadline = Deadline(24, 168)
    dispute: Deadline = Deadline(24, 168)
    inquiry: Deadline = Deadline(24, 168)
    suggestion: Deadline = Deadline(24, 360)
    remind_before_hours: float = 4

    def for_ticket(self, request_type: RequestType, *, urgent: bool) -> Deadline:
        """The deadline that applies to a ticket of this type and urgency."""
        if urgent:
            return self.urgent
        if request_type is RequestType.NONE:
            raise ValueError("ordinary chat ('none') has no deadline")
        deadline: Deadline = getattr(self, request_type.value)
        return deadline

    @property
    def remind_before(self) -> dt.timedelta:
        """How long before a deadline the assignee is reminded."""
        return dt.timedelta(hours=self.remind_before_hours)


@dataclass(frozen=True, slots=True)
class FollowupSettings:
    """A resolved ticket nobody rates closes unrated after this many days."""

    close_unrated_after_days: int = 3

    @property
    def close_unrated_after(self) -> dt.timedelta:
        """The same as a timedelta."""
        return dt.timedelta(days=self.close_unrated_after_days)


@dataclass(frozen=True, slots=True)
class DuplicateSettings:
    """A new request joins a similar open ticket from the last `window_hours`."""

    window_hours: float = 72

    @property
    def window(self) -> dt.timedelta:
        """The same as a timedelta."""
        return dt.timedelta(hours=self.window_hours)


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """Morning digest time, and the ISO weekday (1 = Monday) of the weekly review."""

    time: dt.time = dt.time(8, 0)
    weekly_review_weekday: int = 1


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No pushes except urgent alerts from `start` to `end` (may wrap midnight)."""

    start: dt.time = dt.time(21, 30)
    end: dt.time = dt.time(7, 30)

    def contains(self, moment: dt.time) -> bool:
        """True when a local wall-clock time falls in the quiet hours; start == end means none."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


# What the default values of a section look like, so that `read_*` and the dataclass agree.
_STORAGE, _CLASSIFIER, _DEADLINES = StorageSettings(), ClassifierSettings(), DeadlineSettings()
_FOLLOWUP, _DUPLICATES = FollowupSettings(), DuplicateSettings()
_DIGESTS, _QUIET = DigestSettings(), QuietHours()
_DEADLINE_KEYS = ("respond_hours", "resolve_hours")


def read_storage(root: TableReader) -> StorageSettings:
    """[storage]; without `database`, the SQLite file `linli.db` inside `data_dir`."""
    table = root.table("storage", ("database", "data_dir", "keep_message_log_days"))
    data_dir = Path(table.text("data_dir", str(_STORAGE.data_dir)))
    database = table.text("database", f"sqlite+aiosqlite:///{data_dir.as_posix()}/linli.db")
    if "://" not in database:
        raise Invalid(
            table.at("database"),
            f'expected a database URL such as "{_STORAGE.database}", got {show(database)}',
        )
    keep = table.integer(
        "keep_message_log_days",
        _STORAGE.keep_message_log_days,
        minimum=MIN_MESSAGE_LOG_DAYS,
        maximum=MAX_MESSAGE_LOG_DAYS,
    )
    return StorageSettings(database=database, data_dir=data_dir, keep_message_log_days=keep)


# More classifier processes than this only queue for the same cores.
MAX_WORKERS = 16
AUTO = "auto"


CGROUPS = Path("/sys/fs/cgroup")
MEMBERSHIP = Path("/proc/self/cgroup")
MEMINFO = Path("/proc/meminfo")
# "auto" starts a classifier worker only with this much memory to spare: a worker takes about
# 175 MB (the model and jieba's dictionary), and the rest is headroom for the main process.
WORKER_MEMORY = 512 * 1024 * 1024


def usable_cores(cgroups: Path = CGROUPS, membership: Path = MEMBERSHIP) -> int:
    """The cores this process may run on: its affinity (where the platform tells), and no
    more than a CPU limit on its cgroup allows (a 1.5-CPU limit counts as one core)."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    limit = cpu_limit(cgroups, membership)
    return cores if limit is None else min(cores, limit)


def cpu_limit(cgroups: Path = CGROUPS, membership: Path = MEMBERSHIP) -> int | None:
    """Whole CPUs allowed by the tightest CPU quota on this process's cgroup or any parent
    (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`), at least 1; None when none is set or none
    can be read (no cgroups, another platform)."""
    limits = [q for d in _cgroup_dirs("cpu", cgroups, membership) if (q := _quota(d)) is not None]
    return max(1, min(limits)) if limits else None


def free_memory(
    cgroups: Path = CGROUPS, membership: Path = MEMBERSHIP, meminfo: Path = MEMINFO
) -> int | None:
    """Bytes this process could still use: the machine's available memory, and no more than
    the tightest cgroup memory limit (v2 `memory.max`, v1 `memory.limit_in_bytes`) leaves
    above its usage; None when nothing can be read."""
    room = [r for d in _cgroup_dirs("memory", cgroups, membership) if (r := _room(d)) is not None]
    available = _figure(meminfo, "MemAvailable:")
    if available is not None:
        room.append(available * 1024)  # in kB
    return max(0, min(room)) if room else None


def _cgroup_dirs(controller: str, cgroups: Path, membership: Path) -> list[Path]:
    """The directories of this process's cgroup and of its parents where `controller`'s
    files may be, for cgroup v2 and v1. Inside a container the mount shows its own cgroup at
    the root, so the root counts too."""
    try:
        lines = membership.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found: list[Path] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            mounts = [cgroups, cgroups / "unified"]  # v2, alone or beside v1
        elif controller in controllers.split(","):
            mounts = [cgroups / controllers, cgroups / controller]  # v1
        else:
            continue
        for mount in mounts:
            directory = mount / path.strip("/")
            while True:
                found.append(directory)
                if directory == mount or mount not in directory.parents:
                    break
                directory = directory.parent
    return found


def _quota(directory: Path) -> int | None:
    try:
        if (directory / "cpu.max").exists():
            quota, period = (directory / "cpu.max").read_text(encoding="ascii").split()
            return None if quota == "max" else int(quota) // int(period)
        if (directory / "cpu.cfs_quota_us").exists():
            quota = (directory / "cpu.cfs_quota_us").read_text(encoding="ascii").strip()
            period = (directory / "cpu.cfs_period_us").read_text(encoding="ascii").strip()
            return None if int(quota) < 0 else int(quota) // int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None  # unreadable: as if unset
    return None


# cgroup v1 shows "no limit" as a huge number (the largest page-aligned 64-bit value).
_NO_V1_LIMIT = 1 << 60


def _room(directory: Path) -> int | None:
    """A cgroup's memory limit minus its usage, if it has a limit. The usage counts the page
    cache, which the kernel gives back under pressure; its inactive part is left out, as
    container runtimes do."""
    for limit_file, usage_file, inactive in (
        ("memory.max", "memory.current", "inactive_file"),
        ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
    ):
        try:
            if not (directory / limit_file).exists():
                continue
            limit = (directory / limit_file).read_text(encoding="ascii").strip()
            if limit == "max" or int(limit) >= _NO_V1_LIMIT:
                return None
            usage = int((directory / usage_file).read_text(encoding="ascii").strip())
            return int(limit) - max(0, usage - (_figure(directory / "memory.stat", inactive) or 0))
        except (OSError, ValueError):
            return None  # unreadable: as if unset
    return None


def _figure(path: Path, name: str) -> int | None:
    """The number after `name` on its line of a "name value" file (/proc/meminfo, a cgroup's
    memory.stat); None when the file or the line cannot be read."""
    try:
        for line in path.read_text(encoding="ascii").splitlines():
            key, _, rest = line.partition(" ")
            if key == name:
                return int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return None


def read_classifier(root: TableReader) -> ClassifierSettings:
    """[classifier]."""
    table = root.table(
        "classifier", ("confirm_below", "question_timeout_minutes", "worker_processes")
    )
    return ClassifierSettings(
        confirm_below=table.number(
            "confirm_below", _CLASSIFIER.confirm_below, minimum=0, maximum=1
        ),
        question_timeout_minutes=table.integer(
            "question_timeout_minutes", _CLASSIFIER.question_timeout_minutes, minimum=1
        ),
        worker_processes=None
        if table.get("worker_processes") in (None, AUTO)
        else table.integer("worker_processes", 0, minimum=0, maximum=MAX_WORKERS, also=AUTO),
    )


def read_routing(root: TableReader) -> RoutingSettings:
    """[routing]: request type = [roles]."""
    names = [kind.value for kind in ROUTED_TYPES]
    table = root.table("routing", names, what="request type")
    routes: dict[str, tuple[Role, ...]] = {}
    for name in names:
        if name not in table.data:
            continue
        items = table.array(name)
        if not items:
            raise Invalid(table.at(name), "expected a non-empty array of roles, got []")
        routes[name] = tuple(
            _routable_role(item, table.at(name, i)) for i, item in enumerate(items)
        )
    return RoutingSettings(**routes)


def _routable_role(value: object, key: tuple[str | int, ...]) -> Role:
    role = to_enum(value, Role, key)
    if role not in ROUTABLE_ROLES:
        roles = ", ".join(ROUTABLE_ROLES)
        raise Invalid(key, f"expected a staff role ({roles}), got {show(value)}")
    return role


def read_deadlines(root: TableReader) -> DeadlineSettings:
    """[deadlines]: `remind_before_hours`, and one table per type (or `urgent`)."""
    names = ["urgent", *(kind.value for kind in ROUTED_TYPES)]
    table = root.table("deadlines", ["remind_before_hours", *names], what="request type")
    deadlines: dict[str, Deadline] = {}
    for name in names:
        default: Deadline = getattr(_DEADLINES, name)
        hours = table.table(name, _DEADLINE_KEYS)
        respond = hours.number(
            "respond_hours", default.respond_hours, minimum=0, above_minimum=True
        )
        resolve = hours.number(
            "resolve_hours", default.resolve_hours, minimum=0, above_minimum=True
        )
        if resolve < respond:
            raise Invalid(
                hours.at("resolve_hours"),
                f"expected at least respond_hours ({respond:g}), got {resolve:g}",
            )
        deadlines[name] = Deadline(respond, resolve)
    remind = table.number(
        "remind_before_hours", _DEADLINES.remind_before_hours, minimum=0, above_minimum=True
    )
    return DeadlineSettings(**deadlines, remind_before_hours=remind)


def read_followup(root: TableReader) -> FollowupSettings:
    """[followup]."""
    table = root.table("followup", ("close_unrated_after_days",))
    days = table.integer("close_unrated_after_days", _FOLLOWUP.close_unrated_after_days, minimum=1)
    return FollowupSettings(close_unrated_after_days=days)


def read_duplicates(root: TableReader) -> DuplicateSettings:
    """[duplicates]."""
    table = root.table("duplicates", ("window_hours",))
    return DuplicateSettings(
        window_hours=table.number(
            "window_hours", _DUPLICATES.window_hours, minimum=0, above_minimum=True
        )
    )


def read_digests(root: TableReader) -> DigestSettings:
    """[digests]."""
    table = root.table("digests", ("time", "weekly_review_weekday"))
    return DigestSettings(
        time=table.clock("time", _DIGESTS.time.strftime("%H:%M")),
        weekly_review_weekday=table.integer(
            "weekly_review_weekday", _DIGESTS.weekly_review_weekday, minimum=1, maximum=7
        ),
    )


def read_quiet_hours(root: TableReader) -> QuietHours:
    """[quiet_hours]."""
    table = root.table("quiet_hours", ("start", "end"))
    return QuietHours(
        start=table.clock("start", _QUIET.start.strftime("%H:%M")),
        end=table.clock("end", _QUIET.end.strftime("%H:%M")),
    )
