"""Worker processes forked from this one and fed one task at a time over pipes (POSIX with fork).

concurrent.futures' process pool imports logging, socket, threading and multiprocessing's queues and
starts a manager thread: ~45 ms before the first file is read, more than a directory of a hundred
Dockerfiles costs each core. Here a worker is a fork with two pipes, and the parent hands a task to a
worker only when it is idle, so the work is shared as with a common queue.

Each message is an 8-byte length and a pickle. A worker that ends without answering (killed, out of
memory) fails its task with WorkerDied and is replaced; the other tasks go on.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
from collections import deque

_LENGTH = 8


class WorkerDied(Exception):
    """A worker process ended before it returned its task's result."""


class Task:
    """A submitted call; result() waits for it, serving the pool meanwhile."""

    __slots__ = ("_pool", "_done", "_value", "_error")

    def __init__(self, pool: ForkPool) -> None:
        self._pool = pool
        self._done = False
        self._value = None
        self._error: BaseException | None = None

    def _finish(self, value=None, error: BaseException | None = None) -> None:
        self._done, self._value, self._error = True, value, error

    def result(self):
        while not self._done:
            self._pool._serve()
        if self._error is not None:
            raise self._error
        return self._value


class _Worker:
    __slots__ = ("pid", "tasks", "results", "task", "buffer")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.task: Task | None = None  # the one it is working on
        self.buffer = bytearray()


class ForkPool:
    """submit(fn, arg) -> Task, and shutdown(): what the runner uses of an executor. `fn` is sent by name
    (pickle), so it must be a module-level function; `initializer(*initargs)` runs once in each worker."""

    _broken = False  # the runner asks, as of an executor: a dead worker is replaced, the pool never breaks

    def __init__(self, jobs: int, initializer=None, initargs: tuple = ()) -> None:
        self._initializer, self._initargs = initializer, initargs
        self._workers: list[_Worker] = []
        self._waiting: deque[tuple[Task, bytes]] = deque()
        self._closing = False
        for _ in range(max(1, jobs)):
            self._workers.append(self._spawn())

    def submit(self, fn, arg) -> Task:
        task = Task(self)
        self._waiting.append((task, pickle.dumps((fn, arg), pickle.HIGHEST_PROTOCOL)))
        self._hand_out()
        return task

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Let each worker finish its task and exit; waiting tasks run first unless cancel_futures."""
        if cancel_futures:
            for task, _ in self._waiting:
                task._finish(error=WorkerDied("cancelled: the pool shut down"))
            self._waiting.clear()
        while self._waiting:
            self._serve()
        self._closing = True
        for worker in self._workers:
            os.close(worker.tasks)  # end of input: the worker exits once its task is answered
            worker.tasks = -1
        while any(worker.results >= 0 for worker in self._workers):
            self._serve()  # read what they still send, or a worker blocked writing would never exit
        for worker in self._workers:
            _reap(worker.pid)
        self._workers = []

    def _spawn(self) -> _Worker:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        # what this process has buffered would be written again by the child
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(task_write)
                os.close(result_read)
                for other in self._workers:  # or a worker would never see the end of another's input
                    for fd in (other.tasks, other.results):
                        if fd >= 0:
                            os.close(fd)
                code = _work_loop(task_read, result_write, self._initializer, self._initargs)
            except BaseException:  # a bug here, not in a task (those are answered): say what it was
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
        os.close(task_read)
        os.close(result_write)
        return _Worker(pid, task_write, result_read)

    def _hand_out(self) -> None:
        for index, worker in enumerate(self._workers):
            if not self._waiting:
                return
            if worker.task is None and worker.results >= 0:
                task, message = self._waiting[0]
                try:
                    _write(worker.tasks, message)
                except OSError:  # it died while idle: the task goes to its replacement, untried
                    self._ended(worker)
                    worker = self._workers[index]
                    _write(worker.tasks, message)
                self._waiting.popleft()
                worker.task = task

    def _serve(self) -> None:
        """Wait for a worker to answer or end; settle its task, hand out the next."""
        busy = {w.results: w for w in self._workers if w.results >= 0 and (w.task is not None or self._closing)}
        if not busy:
            if self._waiting:
                self._hand_out()
                return
            raise RuntimeError("no task is running")
        poller = select.poll()  # not select(): it cannot watch a descriptor numbered 1024 or more
        for fd in busy:
            poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll():
            worker = busy[fd]
            data = os.read(fd, 1 << 20)
            if data:
                worker.buffer += data
                self._settle(worker)
            else:
                self._ended(worker)
        self._hand_out()

    def _settle(self, worker: _Worker) -> None:
        buffer = worker.buffer
        if len(buffer) < _LENGTH:
            return
        size = int.from_bytes(buffer[:_LENGTH], "little")
        if len(buffer) < _LENGTH + size:
            return
        ok, value = pickle.loads(buffer[_LENGTH:_LENGTH + size])
        del buffer[:_LENGTH + size]
        task, worker.task = worker.task, None
        if task is not None:
            task._finish(value=value) if ok else task._finish(error=value)

    def _ended(self, worker: _Worker) -> None:
        os.close(worker.results)
        worker.results = -1
        if self._closing:
            return
        os.close(worker.tasks)
        worker.tasks = -1
        status = _reap(worker.pid)
        if worker.task is not None:
            worker.task._finish(error=WorkerDied(f"worker {worker.pid} {_how(status)}"))
            worker.task = None
        self._workers[self._workers.index(worker)] = self._spawn()


def _work_loop(tasks: int, results: int, initializer, initargs) -> int:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent reports; a worker just stops
    try:
        sys.stdin.close()
        sys.stdin = open(os.devnull)  # noqa: SIM115 - the worker's whole life
    except (OSError, ValueError):
        pass
    if initializer is not None:
        initializer(*initargs)
    while True:
        header = _read_exactly(tasks, _LENGTH)
        if header is None:
            return 0
        fn, arg = pickle.loads(_read_exactly(tasks, int.from_bytes(header, "little")) or b"")
        try:
            answer = (True, fn(arg))
        except Exception as err:
            answer = (False, err)
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception as err:  # an exception or result that cannot be pickled still gets an answer
            data = pickle.dumps((False, RuntimeError(f"{type(err).__name__}: {err}")), pickle.HIGHEST_PROTOCOL)
        try:
            _write(results, data)
        except BrokenPipeError:  # the parent is gone or stopped listening
            return 0


def _write(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_LENGTH, "little") + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes, or None at the end of input before the first."""
    parts, left = [], size
    while left:
        data = os.read(fd, min(left, 1 << 20))
        if not data:
            if left == size:
                return None
            raise EOFError("a message was cut short")
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return f"was killed by signal {number} ({name})"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)}"
    return "ended"
