"""A TCP server in place of Redis that accepts connections and then misbehaves, counting them."""
import socket
import threading


class FakeRedis:
    """`behaviour` "close": every connection is closed at once; "silent": never answered."""

    def __init__(self, behaviour):
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._behaviour = behaviour
        self.port = self._listener.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def _serve(self):
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.accepted.append(connection)
            if self._behaviour == "close":
                connection.close()

    def close(self):
        self._listener.close()
        for connection in self.accepted:
            connection.close()
