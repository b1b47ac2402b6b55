"""Where classification runs: on the event loop, or in worker processes fed in batches.

Classifying is pure CPU (jieba segmentation and a linear model, about 0.1 ms a message). On the
event loop it shares one core with everything else; with `[classifier] worker_processes = N`
it runs in N processes on the other cores, while the loop routes, stores and sends. Texts that
arrive while a worker is busy wait and go together in the next batch, so a burst pays one
hand-off per batch, not per message. A worker that dies is not fatal: Linli logs it once and
classifies on the event loop from then on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import Future as ConcurrentFuture
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Protocol

import nlp
from nlp import Classification

logger = logging.getLogger(__name__)

# Texts handed to a worker at once, and batches on their way per worker: a second batch waits
# in the worker's queue while the first is classified, so the worker never idles in a burst.
BATCH = 64
BATCHES_PER_WORKER = 2


class Classifier(Protocol):
    """What the pipeline asks: a classification now, or a future of one."""

    def submit(self, text: str) -> Classification | asyncio.Future[Classification]:
        """Classify `text` (already normalised)."""
        ...

    async def start(self) -> None:
        """Get ready (load the model; start workers)."""
        ...

    async def stop(self) -> None:
        """Release workers; texts already submitted are still answered."""
        ...


class InlineClassifier:
    """Classifies on the event loop: the default, and what tests and replays use."""

    def __init__(self, classify: Callable[[str], Classification] = nlp.classify) -> None:
        self._classify = classify

    def submit(self, text: str) -> Classification:
        return self._classify(text)

    async def start(self) -> None:
        # jieba's first use loads its dictionary (about a second): never on the event loop.
        await asyncio.to_thread(nlp.warm_up)

    async def stop(self) -> None:
        return None


def _worker_started() -> None:
    """Runs once in each worker: load the model, and leave Ctrl-C to the main process (which
    stops the workers itself; a worker interrupted mid-batch would only log a traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    nlp.warm_up()


class ClassificationFailed(Exception):
    """Classifying one text raised; the worker's error, as text."""


def classify_batch(texts: list[str]) -> list[Classification | str]:
    """Runs in a worker process: each text's classification, or the error it raised, so one
    bad text does not fail the others of its batch."""
    results: list[Classification | str] = []
    for text in texts:
        try:
            results.append(nlp.classify(text))
        except Exception as error:  # reported per text, in the parent process
            results.append(f"{type(error).__name__}: {error}")
    return results


class ProcessClassifier:
    """Classifies in worker processes, in batches of whatever queued up meanwhile."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("ProcessClassifier needs at least one worker")
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._waiting: list[tuple[str, asyncio.Future[Classification]]] = []
        self._in_flight = 0
        self._inline = InlineClassifier()
        self._broken = False
        self._warming: asyncio.Future[None] | None = None

    async def start(self) -> None:
        # "spawn", not fork: a forked copy of a process with running threads (aiosqlite's,
        # the adapters') can deadlock on a lock some thread held at the moment of the fork.
        self._pool = ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_started,
        )
        loop = asyncio.get_running_loop()
        # Start every worker now (each loads jieba and the model), not on the first message.
        warmed = [
            loop.run_in_executor(self._pool, classify_batch, [""]) for _ in range(self._workers)
        ]
        try:
            await asyncio.gather(*warmed)
        except Exception:
            logger.exception("classifier workers did not start; classifying on the event loop")
            self._break()
            await self._inline.start()

    def submit(self, text: str) -> Classification | asyncio.Future[Classification]:
        if self._broken or self._pool is None:
            return self._inline.submit(text)
        future: asyncio.Future[Classification] = asyncio.get_running_loop().create_future()
        self._waiting.append((text, future))
        self._dispatch()
        return future

    def _dispatch(self) -> None:
        limit = self._workers * BATCHES_PER_WORKER
        loop = asyncio.get_running_loop()
        while self._waiting and self._in_flight < limit and self._pool is not None:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                work = self._pool.submit(classify_batch, [text for text, _ in batch])
            except RuntimeError:  # the pool broke (BrokenProcessPool) or was shut down
                logger.exception("a classifier worker died; classifying on the event loop")
                self._fall_back(batch)
                return
            self._in_flight += 1
            # The pool calls back on its own thread: hop to the loop before touching futures.
            work.add_done_callback(
                partial(loop.call_soon_threadsafe, self._finished, batch)  # type: ignore[arg-type]
            )

    def _finished(
        self,
        batch: list[tuple[str, asyncio.Future[Classification]]],
        work: ConcurrentFuture[list[Classification | str]],
    ) -> None:
        self._in_flight -= 1
        try:
            results = work.result()
        except BrokenProcessPool:
            if not self._broken:
                logger.exception("a classifier worker died; classifying on the event loop")
            self._fall_back(batch)
            return
        except Exception:  # the batch did not make the trip (e.g. pickling): only this batch
            logger.exception("a classifier batch failed; classifying it on the event loop")
            self._answer_inline(batch)
        else:
            for (text, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, str):
                    logger.error("classifying %.40r failed in a worker: %s", text, result)
                    future.set_exception(ClassificationFailed(result))
                else:
                    future.set_result(result)
        self._dispatch()

    def _fall_back(self, batch: list[tuple[str, asyncio.Future[Classification]]]) -> None:
        """The pool is unusable: answer this batch and every waiting text on the event loop."""
        if not self._broken:
            self._break()
        waiting, self._waiting = self._waiting, []
        self._answer_inline(batch + waiting)

    def _break(self) -> None:
        """Stop using the pool for good: shut it down, and load the model here meanwhile."""
        self._broken = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        # The first classification on the event loop would otherwise load jieba there.
        self._warming = asyncio.ensure_future(asyncio.to_thread(nlp.warm_up))

    def _answer_inline(self, batch: list[tuple[str, asyncio.Future[Classification]]]) -> None:
        for text, future in batch:
            if not future.done():
                try:
                    future.set_result(self._inline.submit(text))
                except Exception as error:  # an answer, even a failed one, for every text
                    future.set_exception(error)

    async def stop(self) -> None:
        pool, self._pool = self._pool, None
        waiting, self._waiting = self._waiting, []
        self._answer_inline(waiting)
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=False)
        if self._warming is not None:
            await self._warming


def make_classifier(worker_processes: int) -> Classifier:
    """Inline for 0 workers, else a process pool of that size."""
    if worker_processes <= 0:
        return InlineClassifier()
    return ProcessClassifier(worker_processes)
