"""The shared layer, release events and pattern invalidation on a real Redis Cluster.

The module starts three Redis masters on free loopback ports (``--cluster-enabled yes``),
joins them with ``redis-cli --cluster create`` and points ``REDIS_URL`` at one node as
``redis+cluster://127.0.0.1:<port>``; redis-py's RedisCluster finds the other two.
"""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from cms_pricing.api.app import create_app
from cms_pricing.api.express import Express
from cms_pricing.cache import events, keys
from cms_pricing.cache.invalidation import invalidate
from cms_pricing.config import Settings
from servers import eventually

LOCALITY = "/reference/localities?year=2025"  # an answer the shared layer keeps


def _cluster_port() -> int:
    """A free loopback port whose cluster bus port (+10000) is free too."""
    while True:
        port = random.randrange(20000, 30000)
        if all(_bindable(p) for p in (port, port + 10000)):
            return port


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_ok(port: int) -> bool:
    try:
        with redis.Redis(port=port) as node:
            info = node.execute_command("CLUSTER INFO")  # parsed into a dict by redis-py
    except redis.RedisError:
        return False
    return isinstance(info, dict) and info.get("cluster_state") == "ok"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """The ports of three masters forming one cluster (all 16384 slots assigned)."""
    folder = tmp_path_factory.mktemp("redis-cluster")
    ports = [_cluster_port() for _ in range(3)]
    processes = [_start_node(folder, port) for port in ports]
    try:
        for port in ports:
            assert eventually(lambda p=port: _pings(p), 10) is not None
        create = ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports)]
        done = subprocess.run(
            [*create, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert eventually(lambda: all(_cluster_ok(p) for p in ports), 20) is not None
        yield ports
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


def _start_node(folder: Path, port: int) -> subprocess.Popen[bytes]:
    node = folder / str(port)
    node.mkdir()
    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node),
        "--cluster-enabled", "yes", "--cluster-config-file", str(node / "nodes.conf"),
        "--save", "", "--appendonly", "no",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def _pings(port: int) -> bool:
    try:
        with redis.Redis(port=port) as node:
            return bool(node.ping())
    except redis.RedisError:
        return False


def _sizes(ports: list[int]) -> list[int]:
    sizes = []
    for port in ports:
        with redis.Redis(port=port) as node:
            sizes.append(int(node.dbsize()))
    return sizes


def _url(ports: list[int]) -> str:
    return f"redis+cluster://127.0.0.1:{ports[0]}"


def _flush(ports: list[int]) -> None:
    for port in ports:
        with redis.Redis(port=port) as node:
            node.flushall()


def _client(ingested_url: str, redis_url: str) -> TestClient:
    settings = Settings(
        DATABASE_URL=ingested_url,
        CMS_DATA_DIR=None,
        REDIS_URL=redis_url,
        CMS_PRICING_REDIS_TIMEOUT_MS=2000,
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_the_shared_layer_serves_a_second_instance_from_the_cluster(
    cluster: list[int], ingested_url: str
) -> None:
    """Instance one computes the locality list and stores it in the cluster; instance two
    is answered from Redis (x-cache: redis) with the same body and ETag."""
    _flush(cluster)
    with (
        _client(ingested_url, _url(cluster)) as first,
        _client(ingested_url, _url(cluster)) as second,
    ):
        for client in (first, second):
            assert isinstance(client.app, Express)
            assert client.app.state.shared.state == "ok"
        computed = first.get(LOCALITY)
        assert computed.headers["x-cache"] == "miss"
        shared = second.get(LOCALITY)
        assert shared.headers["x-cache"] == "redis"
        assert (shared.content, shared.headers["etag"]) == (
            computed.content,
            computed.headers["etag"],
        )


def test_pattern_invalidation_deletes_matching_keys_on_every_master(
    cluster: list[int], ingested_url: str
) -> None:
    """3,000 keys under one prefix land on all three masters (thousands of slots); an
    invalidation by that prefix UNLINKs every one and reports the count, and keys outside
    the prefix stay."""
    _flush(cluster)
    client = redis.RedisCluster(host="127.0.0.1", port=cluster[0])
    prefix = keys.NAMESPACE + "rel:RVU25D:"
    for start in range(0, 3000, 500):
        with client.pipeline(transaction=False) as pipe:
            for n in range(start, start + 500):
                pipe.set(f"{prefix}{n}", b"x")
            pipe.execute()
    client.set(keys.NAMESPACE + "rel:RVU25C:keep", b"x")
    per_master = _sizes(cluster)
    assert all(size > 500 for size in per_master), per_master
    engine = create_engine(ingested_url)
    try:
        done = invalidate(engine, _url(cluster), "pattern", prefix)
    finally:
        engine.dispose()
    assert done.redis_keys_deleted == 3000 and done.announced
    assert sum(_sizes(cluster)) == 1
    assert client.get(keys.NAMESPACE + "rel:RVU25C:keep") == b"x"
    client.close()


def test_a_published_event_reaches_a_listener_on_the_cluster(cluster: list[int]) -> None:
    """A listener subscribed through the cluster client receives an event announced
    through the cluster (PUBLISH is broadcast to every node) within 5 seconds."""
    received: list[dict[str, Any]] = []

    async def scenario() -> None:
        async def handle(event: dict[str, Any]) -> None:
            received.append(event)

        listener = asyncio.create_task(events.listen(_url(cluster), handle))
        try:
            for _ in range(50):  # announce until the subscription is in place
                await asyncio.to_thread(
                    events.announce, _url(cluster), {"type": "published", "version": "v9"}
                )
                if received:
                    return
                await asyncio.sleep(0.1)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert received[0] == {"type": "published", "version": "v9"}
