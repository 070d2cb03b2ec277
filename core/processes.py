"""Processes by pid, from /proc: whether one still runs, its children, its kernel statistics."""
import os
import pathlib

_PROC = pathlib.Path("/proc")


def stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, ... (OSError once gone)."""
    return (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def running():
    """(pid, stat_fields) of every process, skipping those that end while we look."""
    for entry in os.listdir(_PROC):
        if entry.isdigit():
            try:
                yield int(entry), stat_fields(entry)
            except OSError:
                continue


def child_pids(pid):
    """The pids of the processes whose parent is `pid`."""
    return [child for child, fields in running() if int(fields[1]) == pid]


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
        return stat_fields(pid)[0] != "Z"
    except (OSError, IndexError):
        return True
