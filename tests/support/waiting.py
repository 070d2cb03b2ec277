"""Wait for a condition with a deadline; fail loudly instead of carrying on."""
import time


def wait_for(predicate, timeout=15.0, interval=0.05, message="condition"):
    """Return predicate()'s first truthy value, or fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
