import os
import subprocess
import sys

from dev.processes import pid_alive
from tests.support.waiting import wait_for


def test_a_running_process_is_alive_and_no_pid_is_not():
    assert pid_alive(os.getpid())
    assert not pid_alive(None) and not pid_alive(0)


def test_an_exited_child_is_not_alive_before_or_after_it_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    # Until it has exited and is a zombie: not yet reaped.
    wait_for(lambda: open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", 30,
             message="the child exiting")
    assert not pid_alive(child.pid)
    child.wait()
    assert not pid_alive(child.pid)
