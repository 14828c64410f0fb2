"""A private Kafka + FerretDB pair (infra/local/up.sh in its own state dir, on free
ports) whose servers a test may stop and start again, keeping their data.

The shared servers of the session must never be stopped, so the tests that need a
real server outage start their own pair with :func:`start_private_infra` and stop it
with :meth:`PrivateInfra.down` (down.sh with the same state dir and ports, which only
touches processes whose command line points into that state dir).

A restart reuses exactly the command line, environment and working directory the
server runs with (read from ``/proc/<pid>/`` before stopping it), appends to the same
log file and rewrites the pid file, so the restarted server finds its data: Kafka's
log dirs (topics, committed offsets, transaction state) and FerretDB's SQLite files.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pymongo

from tests.support.waiting import poll

ROOT = Path(__file__).resolve().parents[2]
UP = ROOT / "infra/local/up.sh"
DOWN = ROOT / "infra/local/down.sh"


class InfraError(RuntimeError):
    """A private server did not start, stop or get ready in time."""


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports that nothing listens on right now (bound to 127.0.0.1:0,
    all held at once so they differ, then released)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def pid_alive(pid: int) -> bool:
    """The process exists and is not a zombie (as infra/local/lib.sh decides)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat.rsplit(")", 1)[1].strip().startswith("Z")


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [os.fsdecode(arg) for arg in raw.split(b"\0")[:-1]]


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    env = {}
    for entry in raw.split(b"\0"):
        if b"=" in entry:
            key, _, value = entry.partition(b"=")
            env[os.fsdecode(key)] = os.fsdecode(value)
    return env


def pids_with_marker(marker: str) -> list[int]:
    """Live processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            pid = int(entry.name)
            if marker in " ".join(cmdline(pid)) and pid_alive(pid):
                found.append(pid)
    return found


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             interval: float = 0.1) -> float:
    """Poll ``condition`` until true; seconds it took. Raises :class:`InfraError` (which
    a caller may handle, unlike a test failure) after ``timeout``."""
    took = poll(condition, timeout, interval)
    if took is None:
        raise InfraError(f"timed out after {timeout:.0f}s waiting for {what}")
    return took


def _reap(proc: subprocess.Popen[bytes]) -> None:
    proc.wait()


@dataclass
class Server:
    """One server of the pair: found by its pid file, told from any other process by
    a marker string of its command line."""

    name: str
    pid_file: Path
    log_file: Path
    marker: str
    ready: Callable[[float], None] = field(repr=False)
    """Returns once the server answers a real client, or raises (bounded)."""
    stop_timeout: float = 30.0
    argv: list[str] = field(default_factory=list, repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    cwd: str = field(default="/", repr=False)
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @property
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if self._ours(pid) else None

    def _ours(self, pid: int) -> bool:
        return pid_alive(pid) and self.marker in " ".join(cmdline(pid))

    def running(self) -> bool:
        return self.pid is not None

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> float:
        """Remember how the server runs, stop it (``sig``, then SIGKILL after
        ``stop_timeout`` seconds); seconds it took."""
        pid = self.pid
        if pid is None:
            raise InfraError(f"{self.name} is not running (pid file {self.pid_file})")
        argv, env = cmdline(pid), environ(pid)
        cwd = os.readlink(f"/proc/{pid}/cwd")
        if not argv or not self._ours(pid):
            raise InfraError(f"{self.name} (pid {pid}) exited before it could be stopped")
        self.argv, self.env, self.cwd = argv, env, cwd
        start = time.monotonic()
        os.kill(pid, sig)
        try:
            wait_for(lambda: not pid_alive(pid), self.stop_timeout, f"{self.name} to stop")
        except InfraError:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not pid_alive(pid), 10, f"{self.name} to die of SIGKILL")
        return time.monotonic() - start

    def start(self, ready_timeout: float = 60.0) -> float:
        """Start it again exactly as it ran before :meth:`stop`, wait until it is
        ready; seconds it took."""
        if not self.argv:
            raise InfraError(f"{self.name} was not stopped by this helper: no command line")
        if self.running():
            raise InfraError(f"{self.name} is already running")
        start = time.monotonic()
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd,
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self._procs.append(proc)
        # This process is the parent now: reap the server when it exits, so that
        # nothing (down.sh, pgrep) waits on a zombie.
        threading.Thread(target=_reap, args=(proc,), daemon=True,
                         name=f"reap-{self.name}-{proc.pid}").start()
        self.pid_file.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise InfraError(f"{self.name} exited with {proc.returncode} on restart:\n"
                                 f"{self.log_tail()}")
            try:
                self.ready(max(min(deadline - time.monotonic(), 10.0), 1.0))
                break
            except Exception as e:
                if time.monotonic() > deadline:
                    raise InfraError(f"{self.name} not ready {ready_timeout:.0f}s after its "
                                     f"restart ({e!r}):\n{self.log_tail()}") from e
                time.sleep(0.2)
        return time.monotonic() - start

    def restart(self, down_for: float = 0.0, ready_timeout: float = 60.0) -> float:
        self.stop()
        time.sleep(down_for)
        return self.start(ready_timeout)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def kafka_ready(bootstrap: str) -> Callable[[float], None]:
    def ready(timeout: float) -> None:
        from infra.kafka.admin import wait_for_kafka

        wait_for_kafka(bootstrap, timeout=timeout)

    return ready


def mongo_ready(uri: str) -> Callable[[float], None]:
    def ready(timeout: float) -> None:
        ms = int(timeout * 1000)
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms) as c:
            c.admin.command("ping")

    return ready


@dataclass
class PrivateInfra:
    """A private Kafka + FerretDB started by infra/local/up.sh."""

    state: Path
    env: dict[str, str] = field(repr=False)
    """The environment up.sh and down.sh run with (state dir, ports)."""
    kafka_bootstrap: str
    mongo_uri: str
    kafka: Server
    ferretdb: Server
    how: str = "private infra/local"

    def stop_kafka(self) -> float:
        return self.kafka.stop()

    def start_kafka(self, ready_timeout: float = 90.0) -> float:
        return self.kafka.start(ready_timeout)

    def restart_kafka(self, down_for: float = 0.0) -> float:
        return self.kafka.restart(down_for, ready_timeout=90.0)

    def stop_ferretdb(self) -> float:
        return self.ferretdb.stop()

    def start_ferretdb(self, ready_timeout: float = 60.0) -> float:
        return self.ferretdb.start(ready_timeout)

    def restart_ferretdb(self, down_for: float = 0.0) -> float:
        return self.ferretdb.restart(down_for, ready_timeout=60.0)

    def down(self) -> subprocess.CompletedProcess[str]:
        """down.sh for this state dir and these ports; then check that nothing of ours
        is left (kill what is, by pid, and say so)."""
        result = subprocess.run(["bash", str(DOWN)], env=self.env, capture_output=True,
                                text=True, timeout=120, check=False)
        leftovers = [pid for server in (self.kafka, self.ferretdb)
                     for pid in pids_with_marker(server.marker)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        if result.returncode != 0 or leftovers:
            raise InfraError(f"down.sh exited {result.returncode}, left {leftovers}:\n"
                             f"{result.stderr[-2000:]}")
        return result


def start_private_infra(state: Path, timeout: float = 300.0) -> PrivateInfra:
    """up.sh with its own state dir and free ports. Raises :class:`InfraError` (after
    stopping whatever it started) if the servers do not come up."""
    state = state.resolve()
    kafka_port, controller_port, mongo_port = free_ports(3)
    env = {
        **{k: v for k, v in os.environ.items()
           if not k.startswith("OPSLEDGER_") or k == "OPSLEDGER_INFRA_CACHE"},
        "OPSLEDGER_INFRA_STATE": str(state),
        "OPSLEDGER_KAFKA_PORT": str(kafka_port),
        "OPSLEDGER_KAFKA_CONTROLLER_PORT": str(controller_port),
        "OPSLEDGER_MONGO_PORT": str(mongo_port),
    }
    try:
        up = subprocess.run(["bash", str(UP)], env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        subprocess.run(["bash", str(DOWN)], env=env, capture_output=True, timeout=120,
                       check=False)
        raise InfraError(f"infra/local/up.sh took more than {timeout:.0f}s") from e
    if up.returncode != 0:
        subprocess.run(["bash", str(DOWN)], env=env, capture_output=True, timeout=120,
                       check=False)
        raise InfraError(f"infra/local/up.sh failed ({up.returncode}):\n{up.stderr[-3000:]}")
    exported = dict(
        line.removeprefix("export ").split("=", 1)
        for line in up.stdout.splitlines() if line.startswith("export ")
    )
    bootstrap = exported["OPSLEDGER_KAFKA_BOOTSTRAP"]
    uri = exported["OPSLEDGER_MONGO_URI"]
    return PrivateInfra(
        state=state, env=env, kafka_bootstrap=bootstrap, mongo_uri=uri,
        kafka=Server("kafka", state / "run/kafka.pid", state / "logs/kafka.log",
                     marker=str(state / "kafka/server.properties"),
                     ready=kafka_ready(bootstrap)),
        ferretdb=Server("ferretdb", state / "run/ferretdb.pid", state / "logs/ferretdb.log",
                        marker=f"file:{state / 'ferretdb-data'}/", ready=mongo_ready(uri)),
    )
