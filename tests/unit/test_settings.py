"""Config loading: the demo and issue-shaped files load; each kind of bad file gives one line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.domain.community import Level, Role
from bot.events import RequestType
from config import (
    ConfigError,
    HolidayPolicy,
    QuietHours,
    Secrets,
    TelegramMode,
    demo_config_path,
    load_settings,
    resolve_config_path,
)

# Imported before tests/conftest.py makes every test see one core.
from config.sections import cpu_limit, free_memory
from config.sections import usable_cores as real_usable_cores

# The shape issue 2 promises to accept, verbatim.
ISSUE_EXAMPLE = """\
timezone = "Asia/Shanghai"
[community]
id = "fuqiang"
name = "富强社区"
[[compounds]]
id = "taoyuan"
name = "桃源小区"
[[stairwells]]
id = "taoyuan-5-1"
compound = "taoyuan"
name = "5幢1单元"
[[groups]]                 # one per group chat
id = "g-ty51"
name = "桃源5幢1单元楼道群"
level = "stairwell"        # community | compound | stairwell
node = "taoyuan-5-1"       # the community, compound or stairwell id it serves
telegram_chat_id = -1001234567890   # optional
wechat_room_id = "123456@chatroom"  # optional
[[people]]
id = "p-lead"
name = "周楼长"
roles = ["building_leader"]  # secretary | compound_secretary | building_leader | grid_worker | property | resident
node = "taoyuan-5-1"
telegram_user_id = 1001      # optional
wechat_id = "wxid_abc"       # optional
"""  # noqa: E501

BASE = """\
timezone = "Asia/Shanghai"

[community]
id = "fuqiang"
name = "富强社区"

[[compounds]]
id = "taoyuan"
name = "桃源小区"

[[compounds]]
id = "meiyuan"
name = "梅园小区"

[[stairwells]]
id = "taoyuan-5-1"
compound = "taoyuan"
name = "5幢1单元"

[[stairwells]]
id = "meiyuan-2-1"
compound = "meiyuan"
name = "2幢1单元"

[[groups]]
id = "g-ty51"
name = "桃源5幢1单元楼道群"
level = "stairwell"
node = "taoyuan-5-1"
telegram_chat_id = -1001234567890
wechat_room_id = "123456@chatroom"

[[groups]]
id = "g-my21"
name = "梅园2幢1单元楼道群"
level = "stairwell"
node = "meiyuan-2-1"
telegram_chat_id = -1001234567891
wechat_room_id = "123457@chatroom"

[[people]]
id = "p-lead"
name = "周楼长"
roles = ["building_leader"]
node = "taoyuan-5-1"
telegram_user_id = 1001
wechat_id = "wxid_abc"

[[people]]
id = "p-res1"
name = "刘阿姨"
roles = ["resident"]
node = "taoyuan-5-1"
telegram_user_id = 1002
wechat_id = "wxid_def"
"""

MARK = "# <-"  # marks the line a bad config's error must point at


def edit(*changes: tuple[str, str]) -> str:
    """BASE with each `old` (which must occur exactly once) replaced by `new`."""
    text = BASE
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def add(section: str) -> str:
    """BASE with a section appended."""
    return BASE + "\n" + section


def bad(case_id: str, text: str, key: str, fragment: str) -> object:
    """One bad-config case: the error names the marked line, `key`, and contains `fragment`."""
    return pytest.param(text, key, fragment, id=case_id)


BAD_CONFIGS = [
    # --- unknown keys, at every level, and secrets that belong in the environment
    bad(
        "unknown-root-key",
        edit(('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\ntimezon = "UTC"  # <-')),
        "timezon",
        'unknown key "timezon"; expected one of: timezone',
    ),
    bad("unknown-section", add("[mail]  # <-\nhost = 'x'\n"), "mail", 'unknown key "mail"'),
    bad(
        "unknown-group-key",
        edit(
            (
                'wechat_room_id = "123457@chatroom"',
                'wechat_room_id = "123457@chatroom"\nnmae = "x"  # <-',
            )
        ),
        "groups[1].nmae",
        "expected one of: id, name, level, node",
    ),
    bad(
        "unknown-section-key",
        add("[wechat]\ndaily_limit = 100  # <-\n"),
        "wechat.daily_limit",
        "expected one of: min_interval_per_room_seconds",
    ),
    bad(
        "unknown-duty-key",
        add('[visitor_days]\n[[visitor_days.duty]]\ndate = "2026-12-01"\nwho = "x"  # <-\n'),
        "visitor_days.duty[0].who",
        'unknown key "who"',
    ),
    bad(
        "telegram-token-in-toml",
        add('[telegram]\ntoken = "123456:AAE-secret"  # <-\n'),
        "telegram.token",
        "set TELEGRAM_BOT_TOKEN instead",
    ),
    bad(
        "wechat-token-in-toml",
        add('[wechat]\npuppet_service_token = "puppet_x"  # <-\n'),
        "wechat.puppet_service_token",
        "set WECHATY_PUPPET_SERVICE_TOKEN instead",
    ),
    bad(
        "root-token-in-toml",
        edit(
            (
                'timezone = "Asia/Shanghai"',
                'timezone = "Asia/Shanghai"\ntelegram_bot_token = "1:x"  # <-',
            )
        ),
        "telegram_bot_token",
        "set TELEGRAM_BOT_TOKEN instead",
    ),
    # --- wrong types (a boolean is not an integer or a number)
    bad(
        "string-for-integer",
        edit(("telegram_user_id = 1002", 'telegram_user_id = "1002"  # <-')),
        "people[1].telegram_user_id",
        'expected an integer, got "1002" (a string)',
    ),
    bad(
        "bool-for-integer",
        add("[wechat]\ndaily_cap = true  # <-\n"),
        "wechat.daily_cap",
        "expected an integer, got true (a boolean)",
    ),
    bad(
        "bool-for-number",
        add("[classifier]\nconfirm_below = true  # <-\n"),
        "classifier.confirm_below",
        "expected a number, got true (a boolean)",
    ),
    bad(
        "integer-for-string",
        edit(('name = "梅园2幢1单元楼道群"', "name = 21  # <-")),
        "groups[1].name",
        "expected a non-empty string, got 21 (an integer)",
    ),
    bad(
        "string-for-array",
        edit(('wechat_id = "wxid_def"', 'wechat_id = "wxid_def"\ntags = "老人"  # <-')),
        "people[1].tags",
        'expected an array, got "老人" (a string)',
    ),
    bad(
        "string-for-table",
        edit(
            ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\nstorage = "sqlite"  # <-')
        ),
        "storage",
        'expected a table, got "sqlite"',
    ),
    # --- missing required keys: the error points at the table that lacks them
    bad(
        "missing-community",
        edit(
            ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"  # <-'),
            ('[community]\nid = "fuqiang"\nname = "富强社区"\n', ""),
        ),
        "community",
        "missing required table [community]",
    ),
    bad(
        "missing-group-node",
        edit(
            ('[[groups]]\nid = "g-my21"', '[[groups]]  # <-\nid = "g-my21"'),
            ('node = "meiyuan-2-1"\n', ""),
        ),
        "groups[1].node",
        "missing required key",
    ),
    bad(
        "missing-person-roles",
        edit(
            ('[[people]]\nid = "p-res1"', '[[people]]  # <-\nid = "p-res1"'),
            ('roles = ["resident"]\n', ""),
        ),
        "people[1].roles",
        "missing required key",
    ),
    bad(
        "missing-stairwell-compound",
        edit(
            ('[[stairwells]]\nid = "meiyuan-2-1"', '[[stairwells]]  # <-\nid = "meiyuan-2-1"'),
            ('compound = "meiyuan"\n', ""),
        ),
        "stairwells[1].compound",
        "missing required key",
    ),
    # --- references to nodes that do not exist, and levels that do not match
    bad(
        "group-node-unknown",
        edit(
            (
                'level = "stairwell"\nnode = "taoyuan-5-1"',
                'level = "stairwell"\nnode = "taoyuan-9-9"  # <-',
            )
        ),
        "groups[0].node",
        'expected the id of a community, compound or stairwell, got "taoyuan-9-9"',
    ),
    bad(
        "person-node-unknown",
        edit(
            (
                'roles = ["resident"]\nnode = "taoyuan-5-1"',
                'roles = ["resident"]\nnode = "nowhere"  # <-',
            )
        ),
        "people[1].node",
        'got "nowhere"',
    ),
    bad(
        "stairwell-compound-unknown",
        edit(('compound = "meiyuan"', 'compound = "taoyuan-5-1"  # <-')),
        "stairwells[1].compound",
        'expected the id of a compound, got "taoyuan-5-1"',
    ),
    bad(
        "group-level-mismatch",
        edit(
            (
                'level = "stairwell"\nnode = "meiyuan-2-1"',
                'level = "compound"  # <-\nnode = "meiyuan-2-1"',
            )
        ),
        "groups[1].level",
        'expected "stairwell" (the level of node "meiyuan-2-1"), got "compound"',
    ),
    bad(
        "unknown-level",
        edit(
            (
                'level = "stairwell"\nnode = "meiyuan-2-1"',
                'level = "building"  # <-\nnode = "meiyuan-2-1"',
            )
        ),
        "groups[1].level",
        'expected one of community, compound, stairwell, got "building"',
    ),
    bad(
        "unknown-role",
        edit(('roles = ["resident"]', 'roles = ["resident", "landlord"]  # <-')),
        "people[1].roles[1]",
        "expected one of secretary, compound_secretary, building_leader, grid_worker, property,"
        ' reporter, resident, got "landlord"',
    ),
    bad(
        "empty-roles",
        edit(('roles = ["resident"]', "roles = []  # <-")),
        "people[1].roles",
        "expected a non-empty array of roles",
    ),
    bad(
        "id-with-space",
        edit(('id = "g-my21"', 'id = "g my21"  # <-')),
        "groups[1].id",
        'expected an id without spaces, got "g my21"',
    ),
    # --- duplicates
    bad(
        "duplicate-node-id",
        edit(
            ('id = "meiyuan-2-1"', 'id = "meiyuan"  # <-'),
            ('node = "meiyuan-2-1"', 'node = "meiyuan"'),
            ('level = "stairwell"\nnode = "meiyuan"', 'level = "compound"\nnode = "meiyuan"'),
        ),
        "stairwells[1].id",
        'expected a unique node id, got "meiyuan" (already used by compounds[1])',
    ),
    bad(
        "duplicate-community-id",
        edit(
            ('id = "taoyuan"', 'id = "fuqiang"  # <-'),
            ('compound = "taoyuan"', 'compound = "fuqiang"'),
        ),
        "compounds[0].id",
        "already used by [community]",
    ),
    bad(
        "duplicate-group-id",
        edit(('id = "g-my21"', 'id = "g-ty51"  # <-')),
        "groups[1].id",
        'expected a unique group id, got "g-ty51" (already used by groups[0])',
    ),
    bad(
        "duplicate-person-id",
        edit(('id = "p-res1"', 'id = "p-lead"  # <-')),
        "people[1].id",
        'expected a unique person id, got "p-lead"',
    ),
    bad(
        "duplicate-telegram-chat-id",
        edit(("telegram_chat_id = -1001234567891", "telegram_chat_id = -1001234567890  # <-")),
        "groups[1].telegram_chat_id",
        "expected a unique telegram_chat_id, got -1001234567890 (already used by groups[0])",
    ),
    bad(
        "duplicate-wechat-room-id",
        edit(('wechat_room_id = "123457@chatroom"', 'wechat_room_id = "123456@chatroom"  # <-')),
        "groups[1].wechat_room_id",
        'got "123456@chatroom" (already used by groups[0])',
    ),
    bad(
        "duplicate-telegram-user-id",
        edit(("telegram_user_id = 1002", "telegram_user_id = 1001  # <-")),
        "people[1].telegram_user_id",
        "expected a unique telegram_user_id, got 1001",
    ),
    bad(
        "duplicate-wechat-id",
        edit(('wechat_id = "wxid_def"', 'wechat_id = "wxid_abc"  # <-')),
        "people[1].wechat_id",
        'expected a unique wechat_id, got "wxid_abc"',
    ),
    # --- time zone, times, dates, days
    bad(
        "bad-timezone",
        edit(('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghia"  # <-')),
        "timezone",
        'expected an IANA time zone such as "Asia/Shanghai", got "Asia/Shanghia"',
    ),
    bad(
        "bad-time-hour",
        add('[quiet_hours]\nstart = "25:00"  # <-\n'),
        "quiet_hours.start",
        'expected a time "HH:MM" (00:00 to 23:59), got "25:00" (a string)',
    ),
    bad(
        "bad-time-text",
        add('[visitor_days]\nstart = "9点"  # <-\n'),
        "visitor_days.start",
        'got "9点"',
    ),
    bad(
        "bad-time-digest", add("[digests]\ntime = 8  # <-\n"), "digests.time", "got 8 (an integer)"
    ),
    bad(
        "bad-date-holiday",
        add('[visitor_days]\nholidays = ["2026-10-01", "2026-02-30"]  # <-\n'),
        "visitor_days.holidays[1]",
        'expected a date "YYYY-MM-DD", got "2026-02-30"',
    ),
    bad(
        "bad-date-duty",
        add('[visitor_days]\n[[visitor_days.duty]]\ndate = "12月11日"  # <-\nperson = "p-lead"\n'),
        "visitor_days.duty[0].date",
        'got "12月11日"',
    ),
    bad(
        "duty-person-unknown",
        add('[[visitor_days.duty]]\ndate = "2026-12-11"\nperson = "p-nobody"  # <-\n'),
        "visitor_days.duty[0].person",
        'expected the id of a person, got "p-nobody"',
    ),
    bad(
        "duty-person-and-name",
        add('[[visitor_days.duty]]  # <-\ndate = "2026-12-11"\n'),
        "visitor_days.duty[0].person",
        "expected exactly one of person",
    ),
    bad(
        "day-above-31",
        add("[visitor_days]\ndays = [1, 11, 32]  # <-\n"),
        "visitor_days.days[2]",
        "expected a day of the month (1 to 31), got 32",
    ),
    bad("day-zero", add("[visitor_days]\ndays = [0]  # <-\n"), "visitor_days.days[0]", "got 0"),
    bad(
        "day-twice",
        add("[visitor_days]\ndays = [1, 1]  # <-\n"),
        "visitor_days.days[1]",
        "expected each day once",
    ),
    bad(
        "visitor-end-before-start",
        add('[visitor_days]\nstart = "10:00"\nend = "09:00"  # <-\n'),
        "visitor_days.end",
        "expected a time after start (10:00), got 09:00",
    ),
    bad(
        "unknown-holiday-policy",
        add('[visitor_days]\nholiday_policy = "move"  # <-\n'),
        "visitor_days.holiday_policy",
        'expected one of keep, next_workday, got "move"',
    ),
    bad(
        "bad-weekday",
        add("[digests]\nweekly_review_weekday = 8  # <-\n"),
        "digests.weekly_review_weekday",
        "expected at most 7, got 8",
    ),
    # --- routing and deadlines
    bad(
        "routing-unknown-type",
        add('[routing]\nemergency = ["grid_worker"]  # <-\n'),
        "routing.emergency",
        'unknown request type "emergency"; expected one of: repair, complaint',
    ),
    bad(
        "routing-unknown-role",
        add('[routing]\nrepair = ["plumber"]  # <-\n'),
        "routing.repair[0]",
        'got "plumber"',
    ),
    bad(
        "routing-resident",
        add('[routing]\ninquiry = ["grid_worker", "resident"]  # <-\n'),
        "routing.inquiry[1]",
        "expected a staff role (secretary, compound_secretary, building_leader, grid_worker,"
        ' property), got "resident"',
    ),
    bad(
        "routing-empty",
        add("[routing]\nrepair = []  # <-\n"),
        "routing.repair",
        "expected a non-empty array of roles",
    ),
    bad(
        "deadlines-unknown-type",
        add("[deadlines.urgnet]  # <-\nrespond_hours = 1\n"),
        "deadlines.urgnet",
        'unknown request type "urgnet"',
    ),
    bad(
        "deadlines-zero-hours",
        add("[deadlines]\nrepair = { respond_hours = 0, resolve_hours = 72 }  # <-\n"),
        "deadlines.repair.respond_hours",
        "expected a number above 0, got 0",
    ),
    bad(
        "deadlines-resolve-before-respond",
        add("[deadlines.dispute]\nrespond_hours = 48\nresolve_hours = 24  # <-\n"),
        "deadlines.dispute.resolve_hours",
        "expected at least respond_hours (48), got 24",
    ),
    # --- other ranges and non-positive intervals
    bad(
        "zero-interval",
        add("[wechat]\nmin_interval_per_room_seconds = 0  # <-\n"),
        "wechat.min_interval_per_room_seconds",
        "expected a number above 0, got 0",
    ),
    bad(
        "negative-jitter",
        add("[wechat]\njitter_seconds = -1.5  # <-\n"),
        "wechat.jitter_seconds",
        "expected at least 0, got -1.5",
    ),
    bad(
        "negative-rate",
        add("[telegram]\nper_group_per_minute = -1  # <-\n"),
        "telegram.per_group_per_minute",
        "expected at least 1, got -1",
    ),
    bad(
        "bad-port",
        add("[telegram]\nwebhook_port = 70000  # <-\n"),
        "telegram.webhook_port",
        "expected at most 65535",
    ),
    bad(
        "webhook-without-url",
        add('[telegram]\nmode = "webhook"  # <-\n'),
        "telegram.mode",
        "expected webhook_url to be set",
    ),
    bad(
        "confidence-above-one",
        add("[classifier]\nconfirm_below = 1.5  # <-\n"),
        "classifier.confirm_below",
        "expected at most 1, got 1.5",
    ),
    bad(
        "zero-timeout",
        add("[classifier]\nquestion_timeout_minutes = 0  # <-\n"),
        "classifier.question_timeout_minutes",
        "expected at least 1, got 0",
    ),
    bad(
        "classifier-workers-not-auto",
        add('[classifier]\nworker_processes = "many"  # <-\n'),
        "classifier.worker_processes",
        'expected an integer or "auto", got "many" (a string)',
    ),
    bad(
        "too-many-classifier-workers",
        add("[classifier]\nworker_processes = 64  # <-\n"),
        "classifier.worker_processes",
        "expected at most 16, got 64",
    ),
    bad(
        "bad-database-url",
        add('[storage]\ndatabase = "data/linli.db"  # <-\n'),
        "storage.database",
        'expected a database URL such as "sqlite+aiosqlite:///data/linli.db"',
    ),
    bad(
        "message-log-too-short",
        add("[storage]\nkeep_message_log_days = 3  # <-\n"),
        "storage.keep_message_log_days",
        "expected at least 7, got 3",
    ),
    bad(
        "message-log-not-a-number",
        add('[storage]\nkeep_message_log_days = "90 days"  # <-\n'),
        "storage.keep_message_log_days",
        'expected an integer, got "90 days" (a string)',
    ),
    bad(
        "bad-phone",
        edit(('wechat_id = "wxid_def"', 'wechat_id = "wxid_def"\nphone = "call me"  # <-')),
        "people[1].phone",
        'got "call me"',
    ),
]


@pytest.mark.parametrize(("text", "key", "fragment"), BAD_CONFIGS)
def test_bad_config_names_file_line_and_key(
    tmp_path: Path, text: str, key: str, fragment: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, content in enumerate(text.splitlines(), 1) if MARK in content)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert fragment in message, message
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(path), line, key)


@pytest.mark.parametrize(
    ("case_id", "text", "fragment"),
    [
        (
            "unterminated-string",
            edit(('name = "桃源小区"', 'name = "桃源小区  # <-')),
            "invalid TOML",
        ),
        ("missing-equals", edit(('id = "g-my21"', 'id "g-my21"  # <-')), "invalid TOML"),
        (
            "duplicate-key",
            edit(('name = "富强社区"', 'name = "富强社区"\nname = "x"  # <-')),
            "invalid TOML",
        ),
    ],
)
def test_toml_syntax_error_names_its_line(
    tmp_path: Path, case_id: str, text: str, fragment: str
) -> None:
    path = tmp_path / f"{case_id}.toml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, content in enumerate(text.splitlines(), 1) if MARK in content)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: {fragment}: "), message


def test_token_value_never_appears_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "leak.toml"
    path.write_text(add('[telegram]\nbot_token = "123456:AAE-very-secret"\n'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "AAE-very-secret" not in str(caught.value)
    assert "TELEGRAM_BOT_TOKEN" in str(caught.value)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read the config file"):
        load_settings(missing)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'timezone = "Asia/Shanghai"\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"latin\.toml:2: expected UTF-8 text"):
        load_settings(latin)


def test_issue_example_loads_with_every_default(tmp_path: Path) -> None:
    path = tmp_path / "linli.toml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")

    settings = load_settings(path)

    assert settings.config_path == path
    assert settings.timezone_name == "Asia/Shanghai"
    assert dt.datetime(2026, 12, 1, tzinfo=settings.timezone).utcoffset() == dt.timedelta(hours=8)
    [group] = settings.groups
    assert (group.id, group.level, group.node) == ("g-ty51", Level.STAIRWELL, "taoyuan-5-1")
    assert group.telegram_chat_id == "-1001234567890"
    assert group.wechat_room_id == "123456@chatroom"
    [person] = settings.people
    assert (person.id, person.name, person.roles) == ("p-lead", "周楼长", (Role.BUILDING_LEADER,))
    assert (person.telegram_user_id, person.wechat_id) == ("1001", "wxid_abc")
    assert settings.phone_of("p-lead") is None
    assert settings.storage.database == "sqlite+aiosqlite:///data/linli.db"
    assert settings.storage.data_dir == Path("data")
    assert settings.storage.sqlite_path == Path("data/linli.db")
    assert settings.storage.keep_message_log_days == 90
    assert settings.classifier.confirm_below == 0.55
    assert settings.classifier.question_timeout == dt.timedelta(minutes=30)
    assert settings.classifier.worker_processes is None  # "auto"
    assert settings.classifier.workers == 0  # tests see one core (tests/conftest.py)
    assert settings.routing.roles_for(RequestType.REPAIR) == (Role.PROPERTY, Role.GRID_WORKER)
    assert settings.routing.roles_for(RequestType.INCIDENT) == (Role.GRID_WORKER,)
    assert settings.routing.roles_for(RequestType.COMPLAINT) == (Role.COMPOUND_SECRETARY,)
    assert settings.routing.dispute == (Role.BUILDING_LEADER, Role.COMPOUND_SECRETARY)
    assert settings.routing.inquiry == (Role.GRID_WORKER,)
    assert settings.routing.suggestion == (Role.COMPOUND_SECRETARY,)
    assert settings.routing.roles_for(RequestType.NONE) == ()
    deadlines = settings.deadlines
    assert deadlines.for_ticket(RequestType.INQUIRY, urgent=True).respond == dt.timedelta(hours=2)
    assert deadlines.urgent.resolve == dt.timedelta(hours=24)
    assert deadlines.for_ticket(RequestType.REPAIR, urgent=False).resolve == dt.timedelta(days=3)
    assert deadlines.complaint.resolve == dt.timedelta(days=7)
    assert deadlines.suggestion.resolve == dt.timedelta(days=15)
    assert deadlines.remind_before == dt.timedelta(hours=4)
    assert settings.followup.close_unrated_after == dt.timedelta(days=3)
    assert settings.duplicates.window == dt.timedelta(hours=72)
    visitor = settings.visitor_days
    assert (visitor.days, visitor.start, visitor.end) == ((1, 11, 21), dt.time(9), dt.time(11, 30))
    assert (visitor.remind_day_before, visitor.remind_same_day) == (dt.time(18), dt.time(8))
    assert visitor.levels == (Level.COMMUNITY, Level.COMPOUND, Level.STAIRWELL)
    assert (visitor.holidays, visitor.holiday_policy, visitor.duty) == ((), HolidayPolicy.KEEP, ())
    assert (settings.digests.time, settings.digests.weekly_review_weekday) == (dt.time(8), 1)
    assert settings.quiet_hours == QuietHours(dt.time(21, 30), dt.time(7, 30))
    wechat = settings.wechat
    assert (wechat.min_interval_per_room_seconds, wechat.min_interval_overall_seconds) == (3, 1.5)
    assert (wechat.jitter_seconds, wechat.daily_cap, wechat.watchdog_seconds) == (2, 500, 120)
    assert wechat.reconnect_max_backoff_seconds == 60
    telegram = settings.telegram
    assert (telegram.mode, telegram.webhook_url) == (TelegramMode.POLLING, None)
    assert (telegram.webhook_listen, telegram.webhook_port) == ("127.0.0.1", 8443)
    assert (telegram.per_group_per_minute, telegram.overall_per_second) == (20, 25)


def test_demo_config_describes_the_demo_community() -> None:
    settings = load_settings(demo_config_path())

    assert settings.community.name == "富强社区"
    assert [node.id for node in settings.compounds] == ["taoyuan", "meiyuan"]
    assert len(settings.stairwells) == 4
    by_level = {level: [g for g in settings.groups if g.level is level] for level in Level}
    assert [len(by_level[level]) for level in Level] == [1, 2, 4]
    assert {g.node for g in by_level[Level.STAIRWELL]} == {n.id for n in settings.stairwells}
    assert settings.person("p-sec").has(Role.SECRETARY)
    for compound in settings.compounds:
        for role in (Role.COMPOUND_SECRETARY, Role.GRID_WORKER, Role.PROPERTY):
            assert settings.people_at(compound.id, role), (compound.id, role)
    for stairwell in settings.stairwells:
        assert settings.people_at(stairwell.id, Role.BUILDING_LEADER), stairwell.id
    assert settings.person("p-lead").node == "taoyuan-5-1"
    assert settings.person("p-res1").name == "刘阿姨"
    assert settings.person("p-grid").name == "吴网格员"
    assert any(person.has(Role.REPORTER) for person in settings.people)
    assert all(g.telegram_chat_id and g.wechat_room_id for g in settings.groups)
    assert settings.visitor_days.place == "富强社区党群服务中心一楼"
    on_21st = settings.visitor_days.duty_on(dt.date(2026, 12, 21))
    assert [(entry.person, entry.name) for entry in on_21st] == [
        ("p-sec", "陈书记"),
        (None, "街道王主任"),
    ]


def test_nodes_lookups_and_ancestry(tmp_path: Path) -> None:
    path = tmp_path / "base.toml"
    path.write_text(BASE, encoding="utf-8")

    settings = load_settings(path)

    assert [(n.id, n.level, n.parent) for n in settings.nodes()] == [
        ("fuqiang", Level.COMMUNITY, None),
        ("taoyuan", Level.COMPOUND, "fuqiang"),
        ("meiyuan", Level.COMPOUND, "fuqiang"),
        ("taoyuan-5-1", Level.STAIRWELL, "taoyuan"),
        ("meiyuan-2-1", Level.STAIRWELL, "meiyuan"),
    ]
    assert [n.id for n in settings.ancestry("meiyuan-2-1")] == ["meiyuan-2-1", "meiyuan", "fuqiang"]
    assert settings.group("g-my21").node == "meiyuan-2-1"
    assert settings.group_for_telegram_chat("-1001234567891") == settings.group("g-my21")
    assert settings.group_for_wechat_room("123456@chatroom") == settings.group("g-ty51")
    assert settings.group_for_wechat_room("nope@chatroom") is None
    assert settings.person_for_telegram_user("1002") == settings.person("p-res1")
    assert settings.person_for_wechat_id("wxid_abc") == settings.person("p-lead")
    assert settings.people_at("taoyuan-5-1") == settings.people
    assert settings.people_at("taoyuan-5-1", Role.BUILDING_LEADER) == (settings.person("p-lead"),)
    with pytest.raises(KeyError):
        settings.node("taoyuan-9-9")


def test_optional_keys_and_overrides(tmp_path: Path) -> None:
    text = edit(
        (
            'wechat_id = "wxid_def"',
            'wechat_id = "wxid_def"\nphone = "138 1234 5678"\ntags = ["老人"]',
        ),
        ('wechat_room_id = "123457@chatroom"', 'wechat_room_id = "123457@chatroom"\ntags = ["红"]'),
    ) + (
        '[storage]\ndata_dir = "/var/lib/linli"\n'
        "[deadlines.repair]\nrespond_hours = 12\n"
        '[routing]\nrepair = ["grid_worker"]\n'
        '[visitor_days]\ndays = []\nholidays = [2026-10-01]\nholiday_policy = "next_workday"\n'
        "start = 08:30:00\n"
        '[telegram]\nmode = "webhook"\nwebhook_url = "https://linli.example.org/tg"\n'
    )
    path = tmp_path / "custom.toml"
    path.write_text("\ufeff" + text, encoding="utf-8")  # a byte-order mark is accepted

    settings = load_settings(path)

    assert settings.phone_of("p-res1") == "138 1234 5678"
    assert settings.person("p-res1").tags == ("老人",)
    assert settings.group("g-my21").tags == ("红",)
    # Without `database`, the SQLite file follows data_dir.
    assert settings.storage.database == "sqlite+aiosqlite:////var/lib/linli/linli.db"
    assert settings.storage.sqlite_path == Path("/var/lib/linli/linli.db")
    assert settings.deadlines.repair.respond_hours == 12
    assert settings.deadlines.repair.resolve_hours == 72
    assert settings.routing.repair == (Role.GRID_WORKER,)
    assert settings.routing.dispute == (Role.BUILDING_LEADER, Role.COMPOUND_SECRETARY)
    assert settings.visitor_days.days == ()
    assert settings.visitor_days.holidays == (dt.date(2026, 10, 1),)
    assert settings.visitor_days.holiday_policy is HolidayPolicy.NEXT_WORKDAY
    assert settings.visitor_days.start == dt.time(8, 30)
    assert settings.telegram.mode is TelegramMode.WEBHOOK
    assert settings.telegram.webhook_url == "https://linli.example.org/tg"


@pytest.mark.parametrize(
    ("start", "end", "moment", "quiet"),
    [
        ("21:30", "07:30", "23:00", True),
        ("21:30", "07:30", "03:00", True),
        ("21:30", "07:30", "07:30", False),
        ("21:30", "07:30", "12:00", False),
        ("13:00", "14:00", "13:30", True),
        ("13:00", "14:00", "14:30", False),
        ("00:00", "00:00", "03:00", False),
    ],
)
def test_quiet_hours(start: str, end: str, moment: str, quiet: bool) -> None:
    hours = QuietHours(dt.time.fromisoformat(start), dt.time.fromisoformat(end))
    assert hours.contains(dt.time.fromisoformat(moment)) is quiet


def test_secrets_come_from_environ_and_never_show() -> None:
    environ = {
        "TELEGRAM_BOT_TOKEN": "123456:AAE-token-value",
        "TELEGRAM_API_BASE": "http://127.0.0.1:8081/bot",
        "TELEGRAM_WEBHOOK_SECRET": "hook-secret-value",
        "WECHATY_PUPPET_SERVICE_TOKEN": "puppet-token-value",
        "WECHATY_PUPPET_SERVICE_ENDPOINT": "",
    }

    secrets = Secrets.from_environ(environ)

    assert secrets.telegram_bot_token == "123456:AAE-token-value"
    assert secrets.telegram_api_base == "http://127.0.0.1:8081/bot"
    assert secrets.telegram_webhook_secret == "hook-secret-value"
    assert secrets.wechaty_puppet_service_token == "puppet-token-value"
    assert secrets.wechaty_puppet_service_endpoint is None  # empty counts as unset
    assert secrets.telegram_enabled
    assert not secrets.wechat_enabled
    for shown in (repr(secrets), str(secrets), f"{secrets}", repr([secrets])):
        assert "value" not in shown
        assert "AAE" not in shown
        assert "telegram_bot_token=<set>" in shown
        assert "wechaty_puppet_service_endpoint=<unset>" in shown
    assert Secrets.from_environ({}) == Secrets()
    assert not Secrets().telegram_enabled


def test_resolve_config_path_precedence(tmp_path: Path) -> None:
    environ = {"LINLI_CONFIG": str(tmp_path / "from-env.toml")}

    assert resolve_config_path("cli.toml", environ) == Path("cli.toml")
    assert resolve_config_path(None, environ) == tmp_path / "from-env.toml"
    assert resolve_config_path(None, {"LINLI_CONFIG": ""}) == demo_config_path()
    assert resolve_config_path(None, {}) == demo_config_path()
    assert demo_config_path().name == "demo.toml"
    assert demo_config_path().is_file()


def test_line_is_found_past_multiline_strings_arrays_and_dotted_keys(tmp_path: Path) -> None:
    # Text that looks like headers or keys inside strings and arrays must not fool the search.
    tricky = (
        'visitor_days.place = """\n[[groups]]\nnode = "x"\n"""\n'
        "visitor_days.levels = [\n  'community', # [[groups]]\n  \"stairwell\",\n]\n"
        '"deadlines".repair.respond_hours = 0  # <-\n'
    )
    text = edit(('timezone = "Asia/Shanghai"', f'timezone = "Asia/Shanghai"\n{tricky}'))
    path = tmp_path / "tricky.toml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, content in enumerate(text.splitlines(), 1) if MARK in content)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert str(caught.value).startswith(f"{path}:{line}: deadlines.repair.respond_hours: ")
    bad_node = text.replace('node = "meiyuan-2-1"', 'node = "meiyuan-9-9"  # <-').replace(
        "= 0  # <-", "= 1"
    )
    path.write_text(bad_node, encoding="utf-8")
    line = next(n for n, content in enumerate(bad_node.splitlines(), 1) if MARK in content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}:{line}: groups[1].node: ")


GB = 1 << 30


@pytest.mark.parametrize(
    ("value", "cores", "memory", "workers"),
    [
        ('"auto"', 2, 4 * GB, 1),
        ('"auto"', 8, None, 1),  # memory unknown: cores decide
        ('"auto"', 1, 4 * GB, 0),
        ('"auto"', 2, GB // 4, 0),  # too little memory to spare for a worker
        ("0", 8, 4 * GB, 0),
        ("3", 1, GB // 4, 3),
    ],
)
def test_classifier_workers_are_one_on_two_cores_with_memory_to_spare_unless_set(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    cores: int,
    memory: int | None,
    workers: int,
) -> None:
    path = tmp_path / "linli.toml"
    path.write_text(ISSUE_EXAMPLE + f"[classifier]\nworker_processes = {value}\n", "utf-8")
    monkeypatch.setattr("config.sections.usable_cores", lambda: cores)
    monkeypatch.setattr("config.sections.free_memory", lambda: memory)
    assert load_settings(path).classifier.workers == workers


@pytest.mark.parametrize(
    ("membership", "files", "meminfo", "free"),
    [
        # no cgroup limit: the machine's available memory
        (
            "0::/\n",
            {"memory.max": "max\n"},
            "MemTotal: 8000000 kB\nMemAvailable: 2000000 kB\n",
            2_048_000_000,
        ),
        # cgroup v2 service with a 1 GiB limit, 700 MiB used
        (
            "0::/system.slice/linli.service\n",
            {
                "system.slice/linli.service/memory.max": str(GB),
                "system.slice/linli.service/memory.current": str(700 << 20),
            },
            "MemAvailable: 2000000 kB\n",
            GB - (700 << 20),
        ),
        # cgroup v1 (this machine's kind): "no limit" is a huge number; a container's limit
        ("4:memory:/x\n0::/\n", {"memory/x/memory.limit_in_bytes": str(2**63 - 4096)}, "", None),
        (
            "4:memory:/docker/abc\n",
            {
                "memory/docker/abc/memory.limit_in_bytes": str(GB),
                "memory/docker/abc/memory.usage_in_bytes": str(GB // 2),
            },
            "MemAvailable: 9000000 kB\n",
            GB // 2,
        ),
        # The inactive page cache (a cached database file) counts as room
        (
            "0::/\n",
            {
                "memory.max": str(GB),
                "memory.current": str(900 << 20),
                "memory.stat": f"anon {300 << 20}\ninactive_file {500 << 20}\n",
            },
            "",
            GB - (400 << 20),
        ),
        ("", {}, "no such line\n", None),
    ],
)
def test_free_memory_is_the_tightest_of_the_machine_and_its_cgroups(
    tmp_path: Path, membership: str, files: dict[str, str], meminfo: str, free: int | None
) -> None:
    cgroups, self_file = _cgroups(tmp_path, membership, files)
    (tmp_path / "meminfo").write_text(meminfo, encoding="ascii")
    assert free_memory(cgroups, self_file, tmp_path / "meminfo") == free


def _cgroups(tmp_path: Path, membership: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="ascii")
    (tmp_path / "self").write_text(membership, encoding="utf-8")
    return root, tmp_path / "self"


@pytest.mark.parametrize(
    ("membership", "files", "limit"),
    [
        # cgroup v2 in a container: its own cgroup is the mount's root
        ("0::/\n", {"cpu.max": "max 100000\n"}, None),
        ("0::/\n", {"cpu.max": "150000 100000\n"}, 1),
        ("0::/\n", {"cpu.max": "50000 100000\n"}, 1),  # half a CPU is still one core
        # cgroup v2 on the host (a systemd service): the tightest of it and its parents
        (
            "0::/system.slice/linli.service\n",
            {
                "system.slice/cpu.max": "200000 100000",
                "system.slice/linli.service/cpu.max": "400000 100000",
            },
            2,
        ),
        # cgroup v1 (this machine's kind): no quota, a quota, and a container's own root
        ("4:memory:/x\n1:cpu:/\n0::/\n", {"cpu/cpu.cfs_quota_us": "-1"}, None),
        (
            "2:cpu,cpuacct:/docker/abc\n",
            {"cpu,cpuacct/cpu.cfs_quota_us": "300000", "cpu,cpuacct/cpu.cfs_period_us": "100000"},
            3,
        ),
        ("", {}, None),
    ],
)
def test_a_cgroup_cpu_quota_caps_the_usable_cores(
    tmp_path: Path, membership: str, files: dict[str, str], limit: int | None
) -> None:
    cgroups, self_file = _cgroups(tmp_path, membership, files)
    assert cpu_limit(cgroups, self_file) == limit
    affinity = real_usable_cores(cgroups, tmp_path / "absent")
    expected = affinity if limit is None else min(affinity, limit)
    assert real_usable_cores(cgroups, self_file) == expected
