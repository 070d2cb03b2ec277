"""Whether a process still runs, for tools that find the processes they started by pid."""
import os
import pathlib


def pid_alive(pid):
    """True while `pid` names a running process (a zombie is not one)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie answers kill(0) but is gone; some containers' init never reaps it
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
