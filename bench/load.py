"""The load generator: N concurrent HTTP clients in separate processes (stdlib ``http.client``,
one keep-alive connection per client, reopened when the server closes it), running for a
fixed time against one server.

Clients are spread over a few processes so that the generator is not held back by one GIL;
each client records, for every response, when it ended, its latency, its status, the
``Server-Timing`` the server reported and the size of its body. Only responses that end
inside the measured window (after the warm-up) count.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context

# (ended at, latency s, status, server ms or -1, body bytes)
Record = tuple[float, float, int, float, int]


@dataclass(frozen=True)
class Workload:
    """What every client sends. ``kind``:

    - ``get``: GET ``paths`` in turn (each client starts at its own offset);
    - ``book``: POST ``path`` a booking of ``resource_id`` over a random period of one to
      three days within ``horizon_days`` from two days ahead (``/api/v1/bookings`` and the
      bare ``/bench/writes`` take the same body).
    """

    kind: str
    paths: tuple[str, ...] = ()
    path: str = ""
    tokens: tuple[str, ...] = ()
    resource_id: str = ""
    horizon_days: int = 120

    def request(
        self, client: int, n: int, rng: random.Random, now: datetime
    ) -> tuple[str, str, bytes | None]:
        if self.kind == "get":
            return "GET", self.paths[(client + n) % len(self.paths)], None
        start = now.replace(minute=0, second=0, microsecond=0) + timedelta(
            days=2, hours=rng.randrange(self.horizon_days * 24)
        )
        end = start + timedelta(days=rng.randint(1, 3))
        body = {
            "resource_id": self.resource_id,
            "starts_at": start.isoformat().replace("+00:00", "Z"),
            "ends_at": end.isoformat().replace("+00:00", "Z"),
        }
        return "POST", self.path, json.dumps(body).encode()


@dataclass
class LoadResult:
    seconds: float
    records: list[Record] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def statuses(self) -> Counter[int]:
        return Counter(r[2] for r in self.records)

    def rate_of(self, *statuses: int) -> float:
        wanted = set(statuses)
        return sum(1 for r in self.records if r[2] in wanted) / self.seconds

    def latencies_ms(self) -> list[float]:
        return [r[1] * 1000 for r in self.records]

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies_ms(), p)

    def server_ms(self) -> list[float]:
        return [r[3] for r in self.records if r[3] >= 0]


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0–100), nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class LoadGenerator:
    """A pool of client processes, started once and reused for every measure."""

    def __init__(self, processes: int = 2):
        self.processes = processes
        self.pool = ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn"))
        # Start the processes now, not during the first measure.
        list(self.pool.map(_ping, range(processes)))

    def run(
        self,
        port: int,
        workload: Workload,
        *,
        clients: int,
        seconds: float,
        warmup: float = 0.5,
        host: str = "127.0.0.1",
    ) -> LoadResult:
        """Run ``clients`` concurrent clients for ``warmup + seconds``; the result counts the
        responses of the last ``seconds``."""
        processes = min(self.processes, clients)
        start = time.time() + 0.2  # every process starts at the same moment
        window = (start + warmup, start + warmup + seconds)
        futures = []
        first = 0
        for index in range(processes):
            threads = clients // processes + (1 if index < clients % processes else 0)
            futures.append(
                self.pool.submit(_process, host, port, workload, first, threads, start, window)
            )
            first += threads
        records = [record for future in futures for record in future.result()]
        return LoadResult(seconds=seconds, records=records)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _ping(_: int) -> int:
    return 0


def _process(
    host: str,
    port: int,
    workload: Workload,
    first: int,
    threads: int,
    start: float,
    window: tuple[float, float],
) -> list[Record]:
    results: list[list[Record]] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(
            target=_client, args=(host, port, workload, first + i, start, window, results[i])
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [record for chunk in results for record in chunk]


def _client(
    host: str,
    port: int,
    workload: Workload,
    client: int,
    start: float,
    window: tuple[float, float],
    out: list[Record],
) -> None:
    rng = random.Random(f"{workload.kind}-{client}-{start}")
    headers = {"Accept": "application/json"}
    if workload.kind == "book":
        headers["Content-Type"] = "application/json"
    if workload.tokens:
        headers["Authorization"] = "Bearer " + workload.tokens[client % len(workload.tokens)]
    connection = http.client.HTTPConnection(host, port, timeout=60)
    now = datetime.now(UTC)
    time.sleep(max(0.0, start - time.time()))
    n = 0
    while True:
        method, path, body = workload.request(client, n, rng, now)
        n += 1
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            status = response.status
            timing = _server_ms(response.getheader("Server-Timing"))
        except (OSError, http.client.HTTPException):
            connection.close()
            status, timing, data = 0, -1.0, b""
        ended = time.time()
        if window[0] <= ended <= window[1]:
            out.append((ended, time.perf_counter() - began, status, timing, len(data)))
        if ended > window[1]:
            break
    connection.close()


def _server_ms(header: str | None) -> float:
    if not header:
        return -1.0
    for part in header.split(","):
        name, _, rest = part.strip().partition(";")
        if name == "app" and rest.startswith("dur="):
            return float(rest[4:])
    return -1.0


def fetch(
    port: int, path: str, token: str | None = None, host: str = "127.0.0.1"
) -> tuple[int, bytes, dict[str, str]]:
    """One GET, for checks and page weights."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Accept": "application/json"} if path.startswith("/api/") else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()
