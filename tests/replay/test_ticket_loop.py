"""Issue 4's acceptance replay: two simulated weeks of the ticket loop, rates counted by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main

SCENARIO = Path(__file__).parent / "scenarios" / "ticket_loop.jsonl"

Line = dict[str, str | None]


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> list[Line]:
    """Run the scenario once (it restarts midway) and keep every line Linli sent."""
    import contextlib
    import io

    database = tmp_path_factory.mktemp("replay") / "loop.db"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["replay", str(SCENARIO), "--db", str(database)])
    assert code == 0
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def _answer(output: list[Line], message_id: str) -> str:
    answers = [str(line["text"]) for line in output if line["reply_to"] == message_id]
    assert len(answers) == 1, answers
    return answers[0]


def _to(output: list[Line], person: str, day: str, containing: str) -> list[Line]:
    return [
        line
        for line in output
        if line["to"] == person
        and str(line["at"]).startswith(f"2026-12-{day}")
        and containing in str(line["text"])
    ]


def test_routing_to_the_right_people(output: list[Line]) -> None:
    assert "已转给物业王经理、吴网格员" in _answer(output, "t1")
    assert "已转给吴网格员" in _answer(output, "t3")
    assert "已转给物业何经理、钱网格员" in _answer(output, "t5")
    assert "已转给钱网格员" in _answer(output, "t20")
    # The complaint goes to the compound secretary, without details in the group.
    complaint = _answer(output, "t18")
    assert "工单号 1005" in complaint and "油烟" not in complaint
    assert "已受理" in _answer(output, "t19")


def test_deadline_reminder_before_the_response_deadline(output: list[Line]) -> None:
    # Due at 05:00, inside the quiet hours: it goes out when they end at 07:30.
    assert _to(output, "p-prop", "02T07:30", "提醒：工单 1001")
    assert _to(output, "p-grid", "02T07:30", "提醒：工单 1001")


def test_escalation_to_the_compound_then_the_community(output: list[Line]) -> None:
    assert _to(output, "p-sec-ty", "02T09:30", "工单 1001【公共维修】未按时受理，已上报桃源小区")
    assert not _to(output, "p-sec", "02", "工单 1001")
    assert _to(output, "p-sec", "03T09:30", "工单 1001【公共维修】未按时受理，已上报富强社区")
    assert "已超过受理时限" in str(_to(output, "p-prop", "03T10:00", "指派给您")[0]["text"])


def test_duplicate_joined_and_the_follower_hears_everything(output: list[Line]) -> None:
    assert _answer(output, "t2").startswith("已有邻居反映同一问题（工单 1001），已为您加关注")
    assert _to(output, "u-wang", "03T10:30", "工单 1001）已受理")
    assert _to(output, "u-wang", "03T16:00", "请您评价")
    assert "同一问题关注人：王大爷" in _answer(output, "t23")


def test_dissatisfied_rating_reopens_and_escalates(output: list[Line]) -> None:
    assert "已重新办理" in _answer(output, "t8")
    assert _to(output, "p-sec-ty", "02T11:00", "工单 1003【小区报事】居民对办理结果不满意")
    history = _answer(output, "t24")
    assert "张先生 评价 不满意" in history and "办理→重新办理" in history
    assert "张先生 评价 基本满意" in history and "工单 1003【小区报事】已评价/已关闭" in history


def test_photo_report_kept_the_photo_and_masked_the_phone(output: list[Line]) -> None:
    assert "随手拍" in _answer(output, "t3") and "【小区报事】" in _answer(output, "t3")
    detail = _answer(output, "t24")
    assert "附图：有" in detail and "138****5678" in detail
    assert all("13812345678" not in str(line["text"]) for line in output)


def test_unrated_follower_does_not_keep_the_ticket_open(output: list[Line]) -> None:
    # 王大爷 never answered: three days after 办结 (and across a restart) 1001 is closed.
    assert "工单 1001【公共维修】已评价/已关闭" in _answer(output, "t23")


def test_rates_match_the_hand_count(output: list[Line]) -> None:
    # Tickets of December (1002 was merged into 1001 and is left out):
    #   1001 accepted late, resolved, 满意 (王大爷 never answered)
    #   1003 accepted in time, resolved, 不满意 then 基本满意 after reopening
    #   1004 accepted in time, resolved, 满意
    #   1005 accepted in time, resolution deadline (12 Dec) missed
    #   1006 never accepted (due 11 Dec); resolution not due until 17 Dec
    # 响应率 3/5, 解决率 3/4, 满意率 3/4 (满意 2 + 基本满意 1 of 4 answers).
    community = _answer(output, "t21")
    assert "富强社区本月工单统计（共 5 件）" in community
    assert "响应率 60.0%（按时受理 3/应受理 5）" in community
    assert "解决率 75.0%（已办结 3/应办结 4）" in community
    assert "满意率 75.0%（满意和基本满意 3/已评价 4）" in community
    # 桃源小区 alone: 1001, 1003, 1005.
    compound = _answer(output, "t22")
    assert "响应率 66.7%（按时受理 2/应受理 3）" in compound
    assert "解决率 66.7%（已办结 2/应办结 3）" in compound
    assert "满意率 66.7%（满意和基本满意 2/已评价 3）" in compound
