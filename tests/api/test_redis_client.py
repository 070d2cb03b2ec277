"""The web process's redis-py client (reads, /readyz, /metrics): how often it tries."""
import socket
import threading

import pytest
import redis as redis_module

from api.app import redis_client
from core import settings as settings_module


@pytest.fixture
def fake_redis():
    """A TCP server that accepts connections and either closes them at once or never answers."""
    servers = []

    def start(behaviour):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        accepted = []

        def serve():
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                accepted.append(connection)
                if behaviour == "close":
                    connection.close()

        threading.Thread(target=serve, daemon=True).start()
        servers.append((listener, accepted))
        return listener.getsockname()[1], accepted

    yield start
    for listener, accepted in servers:
        listener.close()
        for connection in accepted:
            connection.close()


def client_for(port):
    settings = settings_module.load({"REDIS_URL": f"redis://127.0.0.1:{port}/0", "CLIPBOARD_ENV": "test",
                                     "DATABASE_URL": "postgresql://unused/unused", "REDIS_TIMEOUT": "0.3"})
    return redis_client(settings)


def test_a_closed_connection_is_tried_once_more(fake_redis):
    port, accepted = fake_redis("close")
    with pytest.raises(redis_module.ConnectionError):
        client_for(port).hgetall("clipboard:x")
    assert len(accepted) == 2


def test_a_timeout_is_not_retried(fake_redis):
    port, accepted = fake_redis("silent")
    with pytest.raises(redis_module.TimeoutError):
        client_for(port).hgetall("clipboard:x")
    assert len(accepted) == 1
