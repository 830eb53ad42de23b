"""Redis Cluster and Sentinel topologies started by the tests on loopback ports."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from cachepolicy.embedded import RedisProcess, answers, find_redis_server, free_port


def redis_cli() -> str:
    """The redis-cli beside the redis-server in use, else the one on PATH."""
    sibling = Path(find_redis_server().path).with_name("redis-cli")
    return str(sibling) if sibling.exists() else shutil.which("redis-cli") or "redis-cli"


def cluster_port(taken: set[int]) -> int:
    """A free port whose cluster bus port (+10000) is free too and collides with no other."""
    while True:
        port = free_port(below=45000)
        pair = {port, port + 10000}
        if not pair & taken and not answers("127.0.0.1", port + 10000):
            taken.update(pair)
            return port


class Cluster:
    """3 masters and 3 replicas, built with `redis-cli --cluster create`."""

    def __init__(self, replicas: int = 1) -> None:
        self.replicas = replicas
        self.nodes: list[RedisProcess] = []

    def start(self) -> Cluster:
        taken: set[int] = set()
        for _ in range(3 * (1 + self.replicas)):
            port = cluster_port(taken)
            node = RedisProcess(
                port,
                args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "1500",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--appendonly",
                    "no",
                    "--cluster-replica-validity-factor",
                    "0",
                ],
            )
            # The config file lives in the node's own directory.
            node.args += ["--cluster-announce-ip", "127.0.0.1"]
            self.nodes.append(node.start())
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            [
                redis_cli(),
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_ok()
        return self

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every node says the cluster is ok and the replicas are attached."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._node_ok(node) for node in self.nodes):
                return
            time.sleep(0.2)
        raise TimeoutError("cluster never reached state ok")

    def _node_ok(self, node: RedisProcess) -> bool:
        if node.proc is None or node.proc.poll() is not None:
            return True  # a node the test killed
        client = redis.Redis(port=node.port, decode_responses=True)
        try:
            ok = "cluster_state:ok" in client.execute_command("CLUSTER", "INFO")
            replicas = client.execute_command("CLUSTER", "NODES").count("slave")
        finally:
            client.close()
        return ok and replicas >= 3 * self.replicas

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def master_of(self, key: str) -> RedisProcess:
        client = redis.RedisCluster(host="127.0.0.1", port=self.nodes[0].port)
        node = client.get_node_from_key(key)
        client.close()
        return next(n for n in self.nodes if n.port == node.port)

    def stop(self) -> None:
        for node in self.nodes:
            node.cleanup()


class SentinelSetup:
    """A master, a replica and three sentinels watching them."""

    def __init__(self, name: str = "cache") -> None:
        self.name = name
        self.master: RedisProcess | None = None
        self.replica: RedisProcess | None = None
        self.sentinels: list[RedisProcess] = []

    def start(self) -> SentinelSetup:
        self.master = RedisProcess().start()
        self.replica = RedisProcess(
            args=["--replicaof", "127.0.0.1", str(self.master.port)]
        ).start()
        for _ in range(3):
            port = free_port()
            sentinel = RedisProcess(port)
            conf = sentinel.dir / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {sentinel.dir}\n"
                f"sentinel monitor {self.name} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {self.name} 1000\n"
                f"sentinel failover-timeout {self.name} 3000\n"
            )
            sentinel.command = lambda conf=conf: [find_redis_server().path, str(conf), "--sentinel"]
            self.sentinels.append(sentinel.start())
        return self

    @property
    def addresses(self) -> str:
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def stop(self) -> None:
        for server in [*self.sentinels, self.replica, self.master]:
            if server is not None:
                server.cleanup()
