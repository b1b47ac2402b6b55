"""Classifying in worker processes: the same answers as on the event loop, and a worker that
dies costs nothing but speed."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import nlp
from bot.classifying import (
    ClassificationFailed,
    InlineClassifier,
    ProcessClassifier,
    classify_batch,
)
from config.settings import Settings
from tests.conftest import started_app
from tests.fakes import AppHarness

START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TEXTS = [
    "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的",
    "早上好",
    "电梯困人了！！快来人",
    "楼上天天半夜拖椅子，吵得睡不着",
    "请问老年证去哪里办",
    "建议小区门口加几张长椅",
]


@pytest.fixture
async def workers() -> AsyncIterator[ProcessClassifier]:
    classifier = ProcessClassifier(1)
    await classifier.start()
    yield classifier
    await classifier.stop()


async def _answers(classifier: ProcessClassifier, texts: list[str]) -> list[nlp.Classification]:
    submitted = [classifier.submit(text) for text in texts]
    return [await s if isinstance(s, asyncio.Future) else s for s in submitted]


async def test_a_burst_is_classified_in_the_worker_as_on_the_event_loop(
    workers: ProcessClassifier,
) -> None:
    texts = TEXTS * 30  # more than one batch, so batches queue behind each other
    assert await _answers(workers, texts) == [nlp.classify(text) for text in texts]


def test_a_worker_answers_a_batch_in_parts_as_it_goes() -> None:
    assert [len(part) for part in classify_batch(TEXTS, every=0.0)] == [1] * len(TEXTS)
    assert [len(part) for part in classify_batch(TEXTS, every=3600.0)] == [1, len(TEXTS) - 1]
    answers = [answer for part in classify_batch(TEXTS, every=0.0) for answer in part]
    assert answers == [nlp.classify(text) for text in TEXTS]


async def test_the_first_answers_of_a_batch_are_delivered_before_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delivered: list[int] = []
    deliver = ProcessClassifier._deliver

    def counting(batch: list[object], results: list[object]) -> None:
        delivered.append(len(results))
        deliver(batch, results)  # type: ignore[arg-type]

    monkeypatch.setattr(ProcessClassifier, "_deliver", staticmethod(counting))
    classifier = ProcessClassifier(1, answer_every=0.0)
    await classifier.start()
    try:
        texts = TEXTS * 3
        assert await _answers(classifier, texts) == [nlp.classify(text) for text in texts]
    finally:
        await classifier.stop()
    assert delivered == [1] * (1 + len(texts))  # the warm-up text, then one part per text


async def test_a_dead_worker_leaves_classification_on_the_event_loop(
    workers: ProcessClassifier,
) -> None:
    for worker in workers._workers:
        assert worker.process.pid is not None
        os.kill(worker.process.pid, signal.SIGKILL)
    answers = await _answers(workers, TEXTS)
    assert answers == [nlp.classify(text) for text in TEXTS]
    # From then on it answers at once, without a pool.
    assert not isinstance(workers.submit(TEXTS[0]), asyncio.Future)
    # And the dead worker is reaped at once, not left a zombie until stop().
    listening = workers._workers[0].listening
    assert listening is not None
    await asyncio.wait_for(listening, 10)
    assert workers._workers[0].process.exitcode == -signal.SIGKILL


async def test_the_pipeline_files_tickets_with_a_classifier_worker(
    settings: Settings, tmp_path: Path
) -> None:
    with_worker = replace(settings, classifier=replace(settings.classifier, worker_processes=1))
    async with started_app(with_worker, tmp_path) as chat:
        replies = await chat.say("5幢1单元楼道灯坏了好几天了，晚上黑漆漆的")
        assert "工单号 1001" in replies[0].text
        assert await chat.say("早上好") == []


async def test_a_text_the_classifier_chokes_on_fails_alone(workers: ProcessClassifier) -> None:
    choking = workers.submit(None)  # type: ignore[arg-type]  # raises inside the worker
    fine = workers.submit(TEXTS[0])
    assert isinstance(choking, asyncio.Future) and isinstance(fine, asyncio.Future)
    assert await fine == nlp.classify(TEXTS[0])
    with pytest.raises(ClassificationFailed, match="TypeError"):
        await choking
    assert isinstance(workers.submit(TEXTS[1]), asyncio.Future)  # the workers are still used


class OneFails(InlineClassifier):
    """Answers with futures, as the workers do; the lamp report's classification fails."""

    def submit(self, text: str) -> asyncio.Future[nlp.Classification]:
        future: asyncio.Future[nlp.Classification] = asyncio.get_running_loop().create_future()
        if "路灯" in text:
            future.set_exception(ClassificationFailed("ValueError: boom"))
        else:
            future.set_result(nlp.classify(text))
        return future


async def test_a_failed_classification_costs_only_its_own_ticket(app: AppHarness) -> None:
    app.app.pipeline._classifier = OneFails()  # type: ignore[attr-defined]
    assert await app.say("3栋门口的路灯坏了") == []  # handled as chat, with an error logged
    opened = await app.say("5幢1单元楼道灯坏了好几天了，晚上黑漆漆的", user="p-res2")
    assert "工单号 1001" in opened[0].text


async def test_an_unreadable_answer_leaves_classification_on_the_event_loop(
    workers: ProcessClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    def garbled(_body: bytes) -> object:
        raise ValueError("not a pickle")

    monkeypatch.setattr("bot.classifying.pickle.loads", garbled)
    assert await _answers(workers, TEXTS) == [nlp.classify(text) for text in TEXTS]
    assert not isinstance(workers.submit(TEXTS[0]), asyncio.Future)


async def test_stopping_still_answers_every_submitted_text() -> None:
    classifier = ProcessClassifier(1)
    await classifier.start()
    texts = TEXTS * 40
    submitted = [classifier.submit(text) for text in texts]
    processes = [worker.process for worker in classifier._workers]
    await classifier.stop()
    assert all(isinstance(s, asyncio.Future) and s.done() for s in submitted)
    assert [s.result() for s in submitted if isinstance(s, asyncio.Future)] == [
        nlp.classify(text) for text in texts
    ]
    assert processes and not any(process.is_alive() for process in processes)


async def test_stopping_ends_a_stuck_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.classifying.STOP_TIMEOUT", 0.5)
    classifier = ProcessClassifier(1)
    await classifier.start()
    process = classifier._workers[0].process
    assert process.pid is not None
    os.kill(process.pid, signal.SIGSTOP)  # wedged: reads nothing, answers nothing
    texts = ["楼道灯坏了，" * 2000] * 150  # megabytes: far more than a socket buffers
    submitted = [classifier.submit(text) for text in texts]
    await asyncio.sleep(0.2)  # the loop tries to write, and keeps the rest buffered
    await asyncio.wait_for(classifier.stop(), 30)
    assert all(isinstance(s, asyncio.Future) and s.done() for s in submitted)
    assert not process.is_alive()


async def test_a_silent_worker_leaves_classification_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("bot.classifying.STALL_TIMEOUT", 0.3)
    monkeypatch.setattr("bot.classifying.STOP_TIMEOUT", 0.5)
    classifier = ProcessClassifier(1)
    await classifier.start()
    try:
        process = classifier._workers[0].process
        assert process.pid is not None
        await asyncio.sleep(0.5)  # idle longer than the stall timeout: that is not a stall
        assert isinstance(classifier.submit(TEXTS[1]), asyncio.Future)
        os.kill(process.pid, signal.SIGSTOP)  # alive, holding texts, answering nothing
        answers = await asyncio.wait_for(_answers(classifier, TEXTS), 5)
        assert answers == [nlp.classify(text) for text in TEXTS]
        assert not isinstance(classifier.submit(TEXTS[0]), asyncio.Future)
        assert "sent nothing for" in caplog.text
    finally:
        await classifier.stop()
    assert not process.is_alive()


def test_an_empty_batch_still_gets_its_answer() -> None:
    assert list(classify_batch([])) == [[]]


async def test_a_worker_that_never_gets_ready_leaves_classification_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.classifying.START_TIMEOUT", 0.5)
    monkeypatch.setattr("bot.classifying.STOP_TIMEOUT", 0.5)
    spawn = ProcessClassifier._spawn

    async def wedged(self: ProcessClassifier) -> object:
        worker = await spawn(self)
        assert worker.process.pid is not None
        os.kill(worker.process.pid, signal.SIGSTOP)  # never loads the model
        return worker

    monkeypatch.setattr(ProcessClassifier, "_spawn", wedged)
    classifier = ProcessClassifier(1)
    await asyncio.wait_for(classifier.start(), 10)
    try:
        assert classifier.submit(TEXTS[0]) == nlp.classify(TEXTS[0])
    finally:
        await classifier.stop()
    assert not classifier._workers
