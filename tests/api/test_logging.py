"""The web process's own log lines: formatted, at LOG_LEVEL, on stderr."""
import subprocess
import sys

from tests.support.processes import ROOT

PROBE = """
import logging
from api.app import configure_logging
configure_logging("INFO")
logging.getLogger("api.keystore").info("key lookup served key=abc")
logging.getLogger("api.keystore").debug("not at this level")
"""


def test_application_lines_are_formatted_with_their_level_and_logger():
    completed = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("[INFO] api.keystore: key lookup served key=abc")
