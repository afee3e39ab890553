"""Profile one request in-process: where the time goes (pyinstrument) and which SQL it runs.

    python -m bench.profile sqlite:///bench/.data/network.sqlite \\
        "/api/v1/documents?q=tonte+pelouses+immeuble" --repeat 50

The database is one that ``python -m bench.dataset`` generated (``--generate`` makes it first,
at ``--scale``). The request runs through Flask's test client with a bench member's token,
``--repeat`` times after one warm-up; the report lists the statements of one request with
their time, then pyinstrument's call tree of all the repeats. Needs the ``bench`` extra
(``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bench import dataset
from bench.load import Workload


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[tuple[str, float]]]:
    """Every statement run on ``engine`` inside the block, with its time in ms."""
    seen: list[tuple[str, float]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        began = conn.info["bench_started"].pop()
        seen.append((statement, (time.perf_counter() - began) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler

    from sharing.extensions import db

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the generated database")
    parser.add_argument("path", help="the request, e.g. /api/v1/documents?q=…")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--generate", action="store_true", help="generate the database first")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument(
        "--booking",
        metavar="RESOURCE_ID",
        help="POST the path a booking of this resource over a random period (as bench.run)",
    )
    args = parser.parse_args(argv)

    url = args.url
    if args.generate:
        url = dataset.fresh_database(url, f"bench_profile_x{args.scale:g}".replace(".", "_"))
        dataset.generate(url, dataset.Scale().times(args.scale))
    app = dataset.bench_app(url)
    client = app.test_client()
    with app.app_context():
        email = db.session.scalar(
            sa.text("SELECT email FROM users WHERE role = 'member' ORDER BY email LIMIT 1")
        )
    secret = "rqt_bench_" + hashlib.sha256(email.encode()).hexdigest()[:32]
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    rng = random.Random(0)
    load = Workload("book", path=args.path, resource_id=args.booking or "")
    now = datetime.now(UTC)

    def request() -> Any:
        if not args.booking:
            return client.get(args.path, headers=headers)
        _, _, body = load.request(0, 0, rng, now)
        return client.post(args.path, data=body, headers=headers, content_type="application/json")

    response = request()  # warm-up
    if response.status_code not in (200, 201, 409):
        print(f"{args.path} answered {response.status_code}: {response.data[:300]!r}")
        return 1
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        began = time.perf_counter()
        status = request().status_code
        total = (time.perf_counter() - began) * 1000
    print(
        f"One request ({status}): {total:.1f} ms, {len(seen)} statements, "
        f"{sum(ms for _, ms in seen):.1f} ms in the database driver"
    )
    for statement, ms in seen:
        print(f"  {ms:7.2f} ms  {' '.join(statement.split())[:150]}")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    began = time.perf_counter()
    statuses: dict[int, int] = {}
    for _ in range(args.repeat):
        code = request().status_code
        statuses[code] = statuses.get(code, 0) + 1
    elapsed = (time.perf_counter() - began) * 1000 / args.repeat
    profiler.stop()
    print(f"\n{args.repeat} requests {statuses}: {elapsed:.1f} ms each\n")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        with open(args.html, "w") as output:
            output.write(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
