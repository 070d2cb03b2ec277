"""Run `python manage.py` the way an operator does, and read its answer."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIGNING_KEY = "manage-test-signing-key-0123456789abcdef"


def manage(database_url, *args, **env_overrides):
    """Run manage.py against `database_url`; return (exit code, stdout JSON or None, stderr)."""
    # Only what the test says: no DATABASE_URL, CLIPBOARD_* or TZ inherited from the shell.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TZ") and not k.startswith("CLIPBOARD_")}
    env.update(DATABASE_URL=database_url, CLIPBOARD_ENV="test", CLIPBOARD_SIGNING_KEY=SIGNING_KEY)
    env.update(env_overrides)
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in result.stderr, result.stderr
    document = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, document, result.stderr


def assert_error(outcome, code, fragment):
    returncode, document, stderr = outcome
    assert returncode == code, (returncode, document, stderr)
    assert document is None, "nothing on stdout when a command fails"
    error = json.loads(stderr.strip().splitlines()[-1])["error"]
    assert fragment in error, error
    return error
