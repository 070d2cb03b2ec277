"""api.gevent_worker: when a web process takes a new connection, and the shared table of counts."""
import multiprocessing
import socket

import pytest
from gevent.server import StreamServer

from api import gevent_worker
from api.gevent_worker import ConnectionCounts, EvenServer, may_accept


@pytest.mark.parametrize("mine, others, expected", [
    (0, [], True), (5, [], True),  # alone
    (0, [0], True), (3, [3, 4], True),  # no one holds fewer
    (1, [0], False), (4, [7, 3], False),  # someone holds fewer
])
def test_a_process_takes_a_connection_unless_another_holds_fewer(mine, others, expected):
    assert may_accept(mine, others) is expected


def table(size=4):
    return multiprocessing.RawArray("i", size), multiprocessing.RawArray("i", size), multiprocessing.Lock()


def test_each_process_takes_its_own_slot_and_sees_the_others_counts():
    pids, counts, lock = table()
    first = ConnectionCounts(pids, counts, lock, pid=101, alive=lambda pid: True)
    second = ConnectionCounts(pids, counts, lock, pid=102, alive=lambda pid: True)
    assert first.slot != second.slot
    first.opened(), first.opened(), second.opened(), first.closed()
    assert (first.mine(), first.others()) == (1, [1])
    assert (second.mine(), second.others()) == (1, [1])


def test_a_dead_process_is_no_sibling_and_its_slot_is_taken_again():
    pids, counts, lock = table(2)
    living = {101, 102}
    alive = living.__contains__
    first = ConnectionCounts(pids, counts, lock, pid=101, alive=alive)
    second = ConnectionCounts(pids, counts, lock, pid=102, alive=alive)
    second.opened()
    living.discard(102)  # killed, its count left behind
    assert first.others() == []
    living.add(103)
    replacement = ConnectionCounts(pids, counts, lock, pid=103, alive=alive)
    assert replacement.slot == second.slot and replacement.mine() == 0


def test_a_process_that_finds_no_free_slot_takes_every_connection():
    pids, counts, lock = table(1)
    first = ConnectionCounts(pids, counts, lock, pid=101, alive=lambda pid: True)
    late = ConnectionCounts(pids, counts, lock, pid=102, alive=lambda pid: True)
    late.opened()
    assert (late.mine(), late.others()) == (1, [])
    assert may_accept(late.mine(), late.others())
    assert (first.mine(), first.others()) == (0, [])


class Counts:
    def __init__(self, mine, others):
        self._mine, self._others = mine, others

    def mine(self):
        return self._mine

    def others(self):
        return self._others


@pytest.fixture
def server(monkeypatch):
    accepted = []
    monkeypatch.setattr(StreamServer, "do_read", lambda self: accepted.append(1) or ("socket", "address"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    now = [100.0]

    def make(mine, others):
        return EvenServer(listener, Counts(mine, others), handle=lambda *args: None, spawn=None,
                          clock=lambda: now[0])

    yield make, now, accepted
    listener.close()


def test_a_process_holding_more_leaves_the_connection_to_the_others_for_a_moment(server):
    make, now, accepted = server
    even = make(2, [1])
    assert even.do_read() is None and accepted == []
    now[0] += gevent_worker.DEFER_LIMIT / 2
    assert even.do_read() is None and accepted == []
    now[0] += gevent_worker.DEFER_LIMIT  # no one else took it: take it after all
    assert even.do_read() == ("socket", "address") and accepted == [1]
    even.close()


def test_a_process_holding_no_more_than_the_others_takes_it_at_once(server):
    make, _, accepted = server
    even = make(1, [1, 3])
    assert even.do_read() == ("socket", "address") and accepted == [1]
    even.close()


def test_a_deferral_long_past_does_not_count_against_the_next_connection(server):
    make, now, accepted = server
    even = make(2, [1])
    assert even.do_read() is None
    now[0] += gevent_worker.DEFER_EPISODE * 2  # another process took that connection meanwhile
    assert even.do_read() is None and accepted == []
    even.close()
