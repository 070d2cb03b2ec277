import os
import subprocess
import sys

from core.processes import child_pids, pid_alive, stat_fields
from tests.support.waiting import wait_for


def test_a_running_process_is_alive_and_no_pid_is_not():
    assert pid_alive(os.getpid())
    assert not pid_alive(None) and not pid_alive(0)


def test_an_exited_child_is_not_alive_before_or_after_it_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    # Until it has exited and is a zombie: not yet reaped.
    wait_for(lambda: stat_fields(child.pid)[0] == "Z", 30, message="the child exiting")
    assert not pid_alive(child.pid)
    child.wait()
    assert not pid_alive(child.pid)


def test_child_pids_are_the_processes_this_one_started():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in child_pids(os.getpid())
        assert os.getpid() not in child_pids(child.pid)
    finally:
        child.kill()
        child.wait()
    assert child.pid not in child_pids(os.getpid())
