"""The fork pool the runner uses on Linux: real forked workers, real pipes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

if not hasattr(os, "fork") or sys.platform != "linux":
    pytest.skip("the fork pool runs on Linux only (elsewhere the runner uses concurrent.futures)", allow_module_level=True)

from dfix.pool import ForkPool, WorkerDied

_INITIALIZED: list = []


def _init(value):
    _INITIALIZED.append(value)


def _echo(arg):
    return (os.getpid(), arg, list(_INITIALIZED))


def _large(size):
    return b"x" * size


def _fail(message):
    raise ValueError(message)


def _die(_):
    os.kill(os.getpid(), signal.SIGKILL)


def _unpicklable(_):
    return lambda: None


def test_tasks_run_in_other_processes_after_the_initializer_and_come_back_in_order():
    pool = ForkPool(2, initializer=_init, initargs=("ready",))
    try:
        tasks = [pool.submit(_echo, n) for n in range(20)]
        answers = [task.result() for task in tasks]
    finally:
        pool.shutdown()
    assert [arg for _, arg, _ in answers] == list(range(20))
    assert all(init == ["ready"] for _, _, init in answers)
    pids = {pid for pid, _, _ in answers}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert _INITIALIZED == []  # the initializer ran in the workers only


def test_a_result_larger_than_a_pipe_buffer_arrives_whole():
    pool = ForkPool(2)
    try:
        tasks = [pool.submit(_large, size) for size in (1 << 20, 3 << 20, 10)]
        assert [len(task.result()) for task in tasks] == [1 << 20, 3 << 20, 10]
    finally:
        pool.shutdown()


def test_an_exception_in_a_task_is_raised_by_its_result_and_the_worker_goes_on():
    pool = ForkPool(1)
    try:
        failing = pool.submit(_fail, "bad input")
        after = pool.submit(_echo, 1)
        with pytest.raises(ValueError, match="bad input"):
            failing.result()
        assert after.result()[1] == 1
        with pytest.raises(RuntimeError, match="pickle"):
            pool.submit(_unpicklable, None).result()
    finally:
        pool.shutdown()


def test_a_killed_worker_fails_only_its_task_and_is_replaced():
    pool = ForkPool(2)
    try:
        before = [pool.submit(_echo, n) for n in range(4)]
        dying = pool.submit(_die, None)
        after = [pool.submit(_echo, n) for n in range(4, 10)]
        assert [t.result()[1] for t in before] == [0, 1, 2, 3]
        with pytest.raises(WorkerDied, match=r"killed by signal 9 \(SIGKILL\)"):
            dying.result()
        assert [t.result()[1] for t in after] == list(range(4, 10))
        assert len(pool._workers) == 2
    finally:
        pool.shutdown()


def test_shutdown_runs_the_waiting_tasks_and_leaves_no_child_behind():
    pool = ForkPool(2)
    tasks = [pool.submit(_echo, n) for n in range(6)]
    pids = [w.pid for w in pool._workers]
    pool.shutdown()
    assert [t.result()[1] for t in tasks] == list(range(6))
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_shutdown_cancels_the_waiting_tasks_when_asked():
    pool = ForkPool(1)
    first = pool.submit(_echo, 0)
    waiting = pool.submit(_echo, 1)
    pool.shutdown(cancel_futures=True)
    assert first.result()[1] == 0  # it was running: it finishes
    with pytest.raises(WorkerDied, match="cancelled"):
        waiting.result()


def _wait_until_dead(pid: int) -> None:
    """Until the killed child is a zombie: dead, and not yet reaped (the pool reaps it)."""
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_worker_that_died_idle_is_replaced_and_the_next_task_runs_untried():
    pool = ForkPool(1)
    try:
        pid = pool.submit(_echo, 0).result()[0]
        os.kill(pid, signal.SIGKILL)
        _wait_until_dead(pid)
        answer = pool.submit(_echo, 1).result()
        assert answer[1] == 1 and answer[0] != pid
    finally:
        pool.shutdown()


def test_pipes_numbered_above_1024_are_watched_too():
    # select() refuses descriptors of 1024 and more; a bulk run may hold that many open files
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this system allows {hard} open files")
    if soft != resource.RLIM_INFINITY and soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        pool = ForkPool(1)
        try:
            assert pool._workers[0].results >= 1024
            assert pool.submit(_echo, 7).result()[1] == 7
        finally:
            pool.shutdown()
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
