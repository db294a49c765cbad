"""Redis for the rate limiter tests: the shared server, servers of their own, a cluster.

- ``shared_redis``: the real server at 127.0.0.1:6379, database 8, under a key prefix unique
  to the test; its keys are deleted afterwards (nothing else is touched).
- ``own_redis``: a ``redis-server`` the test starts on a free loopback port and may kill and
  start again (the shared server is never stopped).
- ``cluster_url``: three ``--cluster-enabled`` masters joined by ``redis-cli --cluster
  create``, as ``redis+cluster://`` through one of them (once per module).
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis_nodes import RedisNode, cluster_port

from servers import eventually, free_port

SHARED_URL = "redis://127.0.0.1:6379/8"


@pytest.fixture
def shared_redis() -> Iterator[tuple[str, str]]:
    """(URL, key prefix) on the shared Redis; the prefix's keys are deleted afterwards."""
    prefix = f"test-ratelimit:{uuid.uuid4().hex}:"
    yield SHARED_URL, prefix
    with redis.Redis.from_url(SHARED_URL) as client:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisNode]:
    node = RedisNode(tmp_path, free_port())
    node.start()
    yield node
    node.kill()


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("ratelimit-cluster")
    nodes = [RedisNode(folder, cluster_port(), cluster=True) for _ in range(3)]
    try:
        for node in nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        create = ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "0"]
        done = subprocess.run(
            [*create, "--cluster-yes"], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert eventually(lambda: all(node.cluster_ok() for node in nodes), 20) is not None
        yield f"redis+cluster://127.0.0.1:{nodes[0].port}"
    finally:
        for node in nodes:
            node.kill()
