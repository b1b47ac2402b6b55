"""Short answers as residents write them: words as well as the numbers a question offers."""

from __future__ import annotations

import pytest

from bot.domain.tickets import Rating
from bot.events import RequestType
from handlers import answers
from handlers.answers import Answer


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("是的", Answer.YES), ("对", Answer.YES), ("好的！", Answer.YES), ("嗯嗯", Answer.YES),
        ("@邻里小助手 是的呀", Answer.YES), ("OK", Answer.YES), ("确认。", Answer.YES),
        ("好滴~", Answer.YES), ("[强]", Answer.YES), ("👍", Answer.YES), ("好的🙏", Answer.YES),
        ("不用了", Answer.NO), ("算了吧", Answer.NO), ("不需要", Answer.NO),
        ("不是", Answer.NOT_THAT), ("不对啊", Answer.NOT_THAT), ("搞错了", Answer.NOT_THAT),
        # A short reply opening with the answer; chat that merely contains such a word.
        ("是的，电梯又坏了", Answer.YES), ("确认 就是东门那个", Answer.YES),
        ("好的我知道了明天再说", None), ("不是我说你", None), ("我觉得是的", None),
        ("是的，" + "楼" * 40, None), ("好，我下楼看看", None), ("嗯，我问问物业", None),
        ("不是，楼下着火了", None), ("不用了，楼下漏水了", None),
        # Asking back is no answer; a reluctant "OK then" is.
        ("是吧？", None), ("对吧", None), ("是嘛", None), ("好吧", Answer.YES),
        ("", None), ("   ", None), ("啊", None),
    ],
)  # fmt: skip
def test_yes_no_and_not_that_in_words(text: str, said: Answer | None) -> None:
    assert answers.answer(text) is said


@pytest.mark.parametrize(
    ("text", "number"),
    [("1", 1), ("１", 1), (" 2 ", 2), ("一", 1), ("零", 0), ("第3个", 3), ("选2", 2),
     ("0", 0), ("12", 12), ("1号楼漏水", None), ("123", None), ("好", None)],
)  # fmt: skip
def test_option_numbers(text: str, number: int | None) -> None:
    assert answers.number(text) == number


@pytest.mark.parametrize(
    ("text", "rating"),
    [("很满意！", Rating.SATISFIED), ("非常满意👍", Rating.SATISFIED),
     ("满意[强][强]", Rating.SATISFIED), ("满意", Rating.SATISFIED),
     ("还行吧", Rating.MOSTLY_SATISFIED), ("一般", Rating.MOSTLY_SATISFIED),
     ("不太满意", Rating.DISSATISFIED), ("还没修好啊", Rating.DISSATISFIED),
     ("满意度调查什么时候做", None)],
)  # fmt: skip
def test_ratings_in_words(text: str, rating: Rating | None) -> None:
    assert answers.rating(text) is rating


@pytest.mark.parametrize(
    ("text", "kind"),
    [("维修", RequestType.REPAIR), ("投诉", RequestType.COMPLAINT),
     ("建议", RequestType.SUGGESTION), ("矛盾纠纷", RequestType.DISPUTE), ("咨询一下", None)],
)  # fmt: skip
def test_request_types_by_name(text: str, kind: RequestType | None) -> None:
    assert answers.request_type(text) is kind
