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
from bot.classifying import ProcessClassifier
from config.settings import Settings
from tests.conftest import started_app

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


async def test_a_dead_worker_leaves_classification_on_the_event_loop(
    workers: ProcessClassifier,
) -> None:
    for pid in list(workers._pool._processes):  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
    answers = await _answers(workers, TEXTS)
    assert answers == [nlp.classify(text) for text in TEXTS]
    # From then on it answers at once, without a pool.
    assert not isinstance(workers.submit(TEXTS[0]), asyncio.Future)


async def test_the_pipeline_files_tickets_with_a_classifier_worker(
    settings: Settings, tmp_path: Path
) -> None:
    with_worker = replace(settings, classifier=replace(settings.classifier, worker_processes=1))
    async with started_app(with_worker, tmp_path) as chat:
        replies = await chat.say("5幢1单元楼道灯坏了好几天了，晚上黑漆漆的")
        assert "工单号 1001" in replies[0].text
        assert await chat.say("早上好") == []
