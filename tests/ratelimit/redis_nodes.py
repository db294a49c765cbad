"""Redis servers of the rate limiter tests' own: one node, or one of a cluster's masters.

A node runs ``redis-server`` on a loopback port, in memory only, and can be killed and
started again on the same port (the shared server at 6379 is never stopped).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
from pathlib import Path

import redis

from servers import eventually, free_port


class RedisNode:
    """One ``redis-server`` on a loopback port, in memory only: start, kill, start again."""

    def __init__(self, folder: Path, port: int, *, cluster: bool = False) -> None:
        self.port = port
        self.folder = folder / str(port)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.options = ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        if cluster:
            config = str(self.folder / "nodes.conf")
            self.options += ["--cluster-enabled", "yes", "--cluster-config-file", config]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        self.process = subprocess.Popen([*command, *self.options], stdout=subprocess.DEVNULL)
        assert eventually(self.answers, 10) is not None, f"redis-server :{self.port} silent"

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def cluster_ok(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=1) as client:
                info = client.execute_command("CLUSTER INFO")
        except redis.RedisError:
            return False
        return isinstance(info, dict) and info.get("cluster_state") == "ok"


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free as well."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with contextlib.suppress(OSError), socket.create_server(("127.0.0.1", port + 10000)):
            return port
