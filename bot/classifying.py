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
import pickle
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Protocol

import nlp
from nlp import Classification

logger = logging.getLogger(__name__)

# Texts handed to a worker at once, and batches on their way per worker: a second batch waits
# in the worker's queue while the first is classified, so the worker never idles in a burst.
BATCH = 64
BATCHES_PER_WORKER = 2
# A worker sends what it has classified once this many seconds passed since it last sent: the
# first answers of a batch reach the pipeline while the worker still works on the rest.
ANSWER_EVERY = 0.0005
# Seconds a worker that holds texts may send nothing before it is taken for stuck (the
# pipeline waits for its answers inside a write transaction, holding SQLite's write lock).
STALL_TIMEOUT = 5.0
# Seconds a worker gets to start and load the model.
START_TIMEOUT = 60.0
# Seconds a stopping worker gets to answer what it holds, and then to exit.
STOP_TIMEOUT = 10.0
# Bytes of the length in front of each message on a worker's socket.
_HEADER = 4


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
    """Classifies on the event loop: with 0 workers (the default on one core), in replays and
    in tests."""

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


def classify_batch(
    texts: list[str], every: float = ANSWER_EVERY
) -> Iterator[list[Classification | str]]:
    """Runs in a worker process: each text's classification, or the error it raised (so one
    bad text does not fail the others of its batch), in order: the first alone, then in parts
    of whatever was classified in `every` seconds."""
    if not texts:
        yield []  # every batch gets an answer, or its successors' would be taken for its own
        return
    results: list[Classification | str] = []
    since = None  # the first answer goes alone, at once: the pipeline waits for it first
    for text in texts:
        try:
            results.append(nlp.classify(text))
        except Exception as error:  # reported per text, in the parent process
            results.append(f"{type(error).__name__}: {error}")
        if since is None or time.perf_counter() - since >= every:
            yield results
            results, since = [], time.perf_counter()
    if results:
        yield results


_Batch = list[tuple[str, asyncio.Future[Classification]]]


def _frame(payload: object) -> bytes:
    """A pickled message with its length in front (the pipe to a worker is a byte stream)."""
    body = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(_HEADER, "big") + body


def _serve(connection: socket.socket, answer_every: float = ANSWER_EVERY) -> None:
    """A worker process: classify each batch that arrives and send the answers back, in order
    and in parts, until the main process closes its end."""
    _worker_started()
    with connection, connection.makefile("rb") as incoming:
        try:
            while len(header := incoming.read(_HEADER)) == _HEADER:
                texts = pickle.loads(incoming.read(int.from_bytes(header, "big")))
                for answers in classify_batch(texts, answer_every):
                    connection.sendall(_frame(answers))
        except ConnectionError:  # the main process stopped listening: nothing to say
            return


@dataclass(eq=False)
class _Worker:
    """One worker process, the main process's end of its socket, and the batches it holds
    (each shrinks from the front as its answers arrive)."""

    process: BaseProcess
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    in_flight: deque[_Batch] = field(default_factory=deque)
    listening: asyncio.Task[None] | None = None
    # Loop time of the last sign of progress: an answer, or a batch handed to it while idle.
    heard: float = 0.0
    # Set by _watch, which starts once the worker has loaded the model (start() waits for that).
    stalled: bool = False
    watch: asyncio.TimerHandle | None = None


class ProcessClassifier:
    """Classifies in worker processes, in batches of whatever queued up meanwhile.

    Each worker is a spawned process joined to the event loop by a socket: the loop writes a
    batch and reads the answers itself. (A ProcessPoolExecutor would add two threads of its own
    in this process, which pickle, unpickle and wake the loop, and contend with it for the
    GIL on every batch.)
    """

    def __init__(self, workers: int, *, answer_every: float = ANSWER_EVERY) -> None:
        if workers < 1:
            raise ValueError("ProcessClassifier needs at least one worker")
        self._size, self._answer_every = workers, answer_every
        self._workers: list[_Worker] = []
        self._waiting: _Batch = []
        self._inline = InlineClassifier()
        self._broken = False
        self._stopping = False
        self._warming: asyncio.Future[None] | None = None

    async def start(self) -> None:
        try:
            for _ in range(self._size):
                self._workers.append(await self._spawn())
            # Every worker loads jieba and the model now, not on the first message.
            warmed = [self._send(worker, [""]) for worker in self._workers]
            ready = asyncio.gather(*(future for batch in warmed for _, future in batch))
            await asyncio.wait_for(ready, START_TIMEOUT)
            for worker in self._workers:
                self._watch(worker)
        except Exception:
            logger.exception("classifier workers did not start; classifying on the event loop")
            self._break()
            if self._warming is not None:  # the model loads here instead (_break started it)
                await self._warming

    async def _spawn(self) -> _Worker:
        # "spawn", not fork: a forked copy of a process with running threads (aiosqlite's,
        # the adapters') can deadlock on a lock some thread held at the moment of the fork.
        ours, theirs = socket.socketpair()
        process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(theirs, self._answer_every), name="linli-classifier", daemon=True
        )
        try:
            try:
                process.start()
            finally:
                theirs.close()  # the worker has its own copy; ours would hide its end-of-file
            reader, writer = await asyncio.open_connection(sock=ours)
        except BaseException:
            ours.close()  # a started worker reads end-of-file and exits
            if process.pid is not None:
                await asyncio.to_thread(_end, process)
            raise
        worker = _Worker(process, reader, writer)
        worker.listening = asyncio.create_task(self._listen(worker))
        return worker

    def submit(self, text: str) -> Classification | asyncio.Future[Classification]:
        if self._broken or not self._workers:
            return self._inline.submit(text)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Classification] = loop.create_future()
        self._waiting.append((text, future))
        if len(self._waiting) == 1:
            # Once the texts submitted in this turn of the loop are all here: one batch.
            loop.call_soon(self._dispatch)
        return future

    def _dispatch(self) -> None:
        """Hand waiting texts to the least busy workers, up to BATCHES_PER_WORKER each."""
        while self._waiting and not self._broken:
            worker = min(self._workers, key=lambda w: len(w.in_flight))
            if len(worker.in_flight) >= BATCHES_PER_WORKER:
                return
            texts, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            self._send(worker, [text for text, _ in texts], texts)

    def _send(self, worker: _Worker, texts: list[str], batch: _Batch | None = None) -> _Batch:
        """Write one batch to a worker (the loop buffers it: this never blocks)."""
        if batch is None:
            loop = asyncio.get_running_loop()
            batch = [(text, loop.create_future()) for text in texts]
        try:
            frame = _frame(texts)
        except Exception:  # a text that cannot make the trip: answer its batch here
            logger.exception("a classifier batch could not be sent; classifying it here")
            self._answer_inline(batch)
            return batch
        if not worker.in_flight:
            worker.heard = asyncio.get_running_loop().time()
        worker.in_flight.append(batch)
        worker.writer.write(frame)
        return batch

    def _watch(self, worker: _Worker) -> None:
        """Every half STALL_TIMEOUT: a worker that holds texts and has sent nothing for
        STALL_TIMEOUT is stuck; cutting its socket makes _listen answer its texts here."""
        if self._broken or self._stopping:
            return
        loop = asyncio.get_running_loop()
        if worker.in_flight and loop.time() - worker.heard >= STALL_TIMEOUT:
            worker.stalled = True
            worker.writer.transport.abort()
            return
        worker.watch = loop.call_later(STALL_TIMEOUT / 2, self._watch, worker)

    async def _listen(self, worker: _Worker) -> None:
        """Read a worker's answers, part by part, in the order the batches were sent."""
        died = False
        try:
            while True:
                header = await worker.reader.readexactly(_HEADER)
                body = await worker.reader.readexactly(int.from_bytes(header, "big"))
                worker.heard = asyncio.get_running_loop().time()
                if self._broken:  # what it held was answered here already (_fall_back)
                    break
                # Delivered before they leave in_flight: if this raises, _fall_back answers the
                # batch's remaining texts.
                batch, answers = worker.in_flight[0], pickle.loads(body)
                self._deliver(batch[: len(answers)], answers)
                del batch[: len(answers)]
                if not batch:
                    worker.in_flight.popleft()
                    self._dispatch()
        except (asyncio.IncompleteReadError, ConnectionError):
            died = not self._stopping and not self._broken and not worker.stalled
        except Exception:  # an answer that makes no sense: stop trusting the workers
            logger.exception("a classifier worker's answer was unreadable; classifying here")
        if worker.stalled:  # _watch cut it off
            logger.error(
                "a classifier worker sent nothing for %.0f s while it held texts; "
                "classifying on the event loop",
                STALL_TIMEOUT,
            )
        self._fall_back()  # first: the texts it held are answered before anything waits
        await asyncio.to_thread(_end, worker.process)  # no zombie until stop()
        if died:
            logger.error(
                "a classifier worker died (exit code %s); classifying on the event loop",
                worker.process.exitcode,
            )

    @staticmethod
    def _deliver(batch: _Batch, results: list[Classification | str]) -> None:
        if not isinstance(results, list) or len(results) != len(batch):
            raise ValueError(f"{len(batch)} answers expected, not {results!r:.80}")
        for (text, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, str):
                logger.error("classifying %.40r failed in a worker: %s", text, result)
                future.set_exception(ClassificationFailed(result))
            else:
                future.set_result(result)

    def _fall_back(self) -> None:
        """The workers are unusable: answer every text they held or waited for, here."""
        self._break()
        held = [pair for worker in self._workers for batch in worker.in_flight for pair in batch]
        for worker in self._workers:
            worker.in_flight.clear()
        waiting, self._waiting = self._waiting, []
        self._answer_inline(held + waiting)

    def _break(self) -> None:
        """Stop using the workers for good, and load the model here meanwhile (once)."""
        if self._broken:
            return
        self._broken = True
        for worker in self._workers:
            # Not close(): that would first wait to write what is buffered, to a worker that
            # may be stuck. A live worker reads end-of-file and exits; _listen ends it.
            worker.writer.transport.abort()
        # The first classification on the event loop would otherwise load jieba there.
        if not self._stopping:
            self._warming = asyncio.ensure_future(asyncio.to_thread(nlp.warm_up))

    def _answer_inline(self, batch: _Batch) -> None:
        for text, future in batch:
            if not future.done():
                try:
                    future.set_result(self._inline.submit(text))
                except Exception as error:  # an answer, even a failed one, for every text
                    future.set_exception(error)

    async def stop(self) -> None:
        """Answer what waits here; let the workers answer what they hold; then end them."""
        waiting, self._waiting = self._waiting, []
        self._answer_inline(waiting)
        held = [future for w in self._workers for batch in w.in_flight for _, future in batch]
        if held:
            await asyncio.wait(held, timeout=STOP_TIMEOUT)
        self._stopping = True
        for worker in self._workers:
            if worker.watch is not None:
                worker.watch.cancel()
        self._fall_back()  # anything a stuck worker still holds; each _listen then ends
        for worker in self._workers:
            if worker.listening is not None:
                await worker.listening  # which also ends the worker's process
        self._workers = []
        if self._warming is not None:
            await self._warming


def _end(process: BaseProcess) -> None:
    """Wait for a worker that was told to stop; kill it if it does not."""
    process.join(STOP_TIMEOUT)
    if process.is_alive():
        process.kill()
        process.join()


def make_classifier(worker_processes: int) -> Classifier:
    """Inline for 0 workers, else that many worker processes."""
    if worker_processes <= 0:
        return InlineClassifier()
    return ProcessClassifier(worker_processes)
