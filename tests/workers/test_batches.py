"""workers.batching.Batches: when gathered messages go to the pool, and what comes back (pure logic)."""
import logging

from workers.batching import Batches


class Task:
    name = "clipboards.store"
    batch_size = 3
    batch_interval = 0.005


class Pool:
    num_processes = 2

    def __init__(self):
        self.jobs = []  # [(bodies, callback, error_callback)]

    def apply_async(self, function, args, callback, error_callback):
        self.jobs.append((args[1], callback, error_callback))

    def finish(self, index=0, error=None):
        bodies, callback, error_callback = self.jobs.pop(index)
        if error is None:
            callback(["applied"] * len(bodies))
        else:
            error_callback(error)
        return bodies


class Timer:
    def __init__(self):
        self.entries = []

    def call_after(self, seconds, function):
        entry = Entry(function)
        self.entries.append(entry)
        return entry

    def fire(self):
        entries, self.entries = self.entries, []
        for entry in entries:
            if not entry.cancelled:
                entry.function()


class Entry:
    def __init__(self, function):
        self.function = function
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Message:
    def __init__(self, body):
        self.body = body


class Outcomes:
    def __init__(self):
        self.acked, self.requeued = [], []

    def ack_for(self, body):
        return lambda log, errors: self.acked.append(body)

    def reject_for(self, body):
        return lambda log, errors, requeue: self.requeued.append((body, requeue))


def setup(pool=None):
    pool, timer, outcomes = pool or Pool(), Timer(), Outcomes()
    batches = Batches(Task(), pool, timer, ())

    def deliver(*bodies):
        for body in bodies:
            batches.handle(Message(body), None, outcomes.ack_for(body), outcomes.reject_for(body), [])

    return batches, pool, timer, outcomes, deliver


def test_a_batch_that_does_not_fill_up_goes_after_the_interval():
    batches, pool, timer, _, deliver = setup()
    deliver("a", "b")
    assert pool.jobs == []
    timer.fire()
    assert [bodies for bodies, *_ in pool.jobs] == [["a", "b"]]


def test_a_full_batch_goes_at_once_and_its_timer_is_cancelled():
    batches, pool, timer, _, deliver = setup()
    deliver("a", "b", "c")
    assert [bodies for bodies, *_ in pool.jobs] == [["a", "b", "c"]]
    assert [entry.cancelled for entry in timer.entries] == [True]
    timer.fire()
    assert len(pool.jobs) == 1


def test_never_more_batches_in_flight_than_pool_processes_and_the_rest_goes_when_one_returns():
    batches, pool, timer, outcomes, deliver = setup()
    deliver("a", "b", "c", "d", "e", "f", "g", "h")
    timer.fire()
    assert [bodies for bodies, *_ in pool.jobs] == [["a", "b", "c"], ["d", "e", "f"]]
    assert batches.in_flight == 2
    assert pool.finish(0) == ["a", "b", "c"]
    assert outcomes.acked == ["a", "b", "c"]
    assert [bodies for bodies, *_ in pool.jobs] == [["d", "e", "f"], ["g", "h"]]  # sent on the return
    pool.finish(0)
    pool.finish(0)
    assert outcomes.acked == list("abcdefgh") and batches.in_flight == 0


def test_a_failed_batch_goes_back_to_the_queue_frees_its_slot_and_the_next_batch_goes(caplog):
    batches, pool, timer, outcomes, deliver = setup()
    deliver("a", "b", "c", "d", "e", "f", "g")
    with caplog.at_level(logging.ERROR, logger="workers.batching"):
        pool.finish(0, error=RuntimeError("pool process died"))
    assert outcomes.requeued == [("a", True), ("b", True), ("c", True)]
    assert outcomes.acked == []
    assert "batch failed" in caplog.text
    assert [bodies for bodies, *_ in pool.jobs] == [["d", "e", "f"], ["g"]]


def test_a_pool_that_does_not_know_its_size_yet_gets_one_batch_at_a_time():
    class Unstarted(Pool):
        @property
        def num_processes(self):
            raise AttributeError("_processes")

    batches, pool, timer, _, deliver = setup(Unstarted())
    deliver("a", "b", "c", "d")
    timer.fire()
    assert [bodies for bodies, *_ in pool.jobs] == [["a", "b", "c"]]
