"""workers.retrying: backoff bounds, retrying errors that pass, surviving a lost connection."""
import peewee
import pytest

from models import Organization, database
from models.server_admin import run_admin
from workers import retrying


@pytest.mark.parametrize("attempt", [0, 1, 2, 5, 10, 40, 1000])
def test_backoff_delay_stays_within_the_exponential_bound_and_the_cap(attempt):
    bound = min(30, retrying.BASE_DELAY_SECONDS * 2 ** min(attempt, 32))
    assert retrying.backoff_delay(attempt, 30, rng=lambda: 0.0) == 0.0
    assert retrying.backoff_delay(attempt, 30, rng=lambda: 1.0) == pytest.approx(bound)
    assert 0.0 <= retrying.backoff_delay(attempt, 30) <= bound


def test_backoff_delay_grows_until_the_cap():
    highest = [retrying.backoff_delay(attempt, 5, rng=lambda: 1.0) for attempt in range(10)]
    assert highest == sorted(highest)
    assert highest[0] == pytest.approx(retrying.BASE_DELAY_SECONDS)
    assert highest[-1] == 5


def test_until_committed_retries_a_transient_error_then_returns_the_result():
    calls, delays = [], []

    def work():
        calls.append(1)
        if len(calls) == 1:
            raise peewee.OperationalError("could not connect to server: Connection refused")
        if len(calls) == 2:
            raise peewee.InterfaceError("connection already closed")
        return "done"

    assert retrying.until_committed(work, max_delay=2, describe="test", sleep=delays.append) == "done"
    assert len(calls) == 3
    assert len(delays) == 2 and all(0 <= delay <= 2 for delay in delays)


def test_until_committed_keeps_retrying_without_a_retry_limit():
    delays = []

    def work():
        if len(delays) < 200:
            raise peewee.OperationalError("the database system is starting up")
        return "done"

    assert retrying.until_committed(work, max_delay=1, sleep=delays.append) == "done"
    assert max(delays) <= 1


def test_until_committed_lets_a_permanent_error_through_at_once():
    def work():
        raise peewee.IntegrityError("duplicate key value violates unique constraint")

    def sleep(delay):
        raise AssertionError("a permanent error must not be retried")

    with pytest.raises(peewee.IntegrityError):
        retrying.until_committed(work, max_delay=1, sleep=sleep)


def test_a_transaction_whose_connection_is_killed_is_retried_on_a_new_connection(database_url):
    """The backend is terminated mid-transaction; the next attempt reconnects and commits."""
    db = database  # no connection open: the unit of work opens its own, as in a worker
    attempts = []

    def create_organization():
        attempts.append(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
        if len(attempts) == 1:
            Organization.create(name="lost")
            terminate(database_url, attempts[0])
        return Organization.create(name="kept").id

    created = retrying.until_committed(
        retrying.in_transaction(db, create_organization), max_delay=1, sleep=lambda delay: None
    )

    assert len(attempts) == 2 and attempts[0] != attempts[1]
    assert not db.is_closed()  # the new connection is kept for the next unit of work
    with db.connection_context():
        assert [organization.name for organization in Organization.select()] == ["kept"]
        assert Organization.get_by_id(created).name == "kept"


def terminate(database_url, pid):
    run_admin(database_url, "SELECT pg_terminate_backend(%s)", (pid,))
