"""Sign-in limits hold across gunicorn workers when the limiter counts in Redis.

gunicorn runs 3 sync worker processes with ``FLASK_RATELIMIT_STORAGE_URI`` pointing at the
Redis of this machine (CI starts it in .ci/run). After ``LIMIT`` attempts from one address,
every further attempt answers 429, whichever worker takes it; the access log names the
worker (its pid) of each answer, and the refusals come from several of them. With the
per-process "memory://" storage each worker would have let ``LIMIT`` attempts through.

Each run uses its own key prefix and deletes its keys afterwards, so that parallel runs and
the developer's own instance never share counters. Without Redis the test fails: it must
not pass silently by testing nothing.
"""

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.factories import Factories

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = 3
LIMIT = 5
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ACCESS = re.compile(r"^pid=<?(\d+)>? status=(\d+) (\S+) (\S+)$")


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this run in a Redis that must answer; its keys are deleted at the end."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis does not answer at {REDIS_URL} ({error}): start it (see .ci/run) — the "
            "rate limits across workers cannot be tested without it"
        )
    prefix = f"sharing-test-{secrets.token_hex(6)}"
    yield prefix
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    assert not list(client.scan_iter(match=f"*{prefix}*")), "keys of this run left in Redis"
    client.close()


class Gunicorn:
    """gunicorn with WORKERS sync workers, the limiter in Redis, and an access log that
    names the worker that answered each request."""

    def __init__(self, database_url: str, prefix: str, tmp: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "gunicorn.log"
        self.access_path = tmp / "access.log"
        env = os.environ | {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_SECRET_KEY": "rate-limit-test-secret",
            "FLASK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "FLASK_LOGIN_RATE_LIMIT": f"{LIMIT} per hour",
            "FLASK_RATELIMIT_STORAGE_URI": REDIS_URL,
            "FLASK_RATELIMIT_KEY_PREFIX": prefix,
            # A Redis failure must show as a failure here, not as a quiet per-worker count.
            "FLASK_RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": "false",
            "FLASK_INSTANCE_URL": self.url,
        }
        command = [
            str(BIN / "gunicorn"),
            "-w",
            str(WORKERS),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            str(self.access_path),
            "--access-logformat",
            "pid=%(p)s status=%(s)s %(m)s %(U)s",
            "wsgi:app",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_until_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers (a degraded health is still an answer)
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer /healthz in {seconds} s:\n{self.log()}")

    def answers(self, path: str, expected: int) -> list[tuple[int, int]]:
        """(worker pid, status) of every POST to ``path``, in the order they were logged;
        waits (at most 30 s) for the workers to write the last lines."""
        deadline = time.monotonic() + 30
        while True:
            rows = []
            for line in self.access_path.read_text().splitlines():
                match = ACCESS.match(line.strip().strip('"'))
                if match and match.group(3) == "POST" and match.group(4) == path:
                    rows.append((int(match.group(1)), int(match.group(2))))
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def gunicorn(database_url, app, redis_prefix, tmp_path_factory) -> Iterator[Gunicorn]:
    server = Gunicorn(database_url, redis_prefix, tmp_path_factory.mktemp("limits"))
    try:
        yield server
    finally:
        server.stop()


def post_json(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def sign_in_form(base: str, email: str) -> int:
    """A browser's attempt: read the form (for its CSRF token and cookie), post it."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(base + "/connexion", timeout=30) as page:
        token = CSRF.search(page.read().decode())
    assert token, "no CSRF token on /connexion"
    data = urllib.parse.urlencode(
        {"email": email, "password": "pas-le-bon-mot-de-passe", "csrf_token": token.group(1)}
    ).encode()
    try:
        with opener.open(base + "/connexion", data, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def in_parallel(count: int, attempt) -> list[int]:
    """``count`` attempts from 6 threads at once, so that several workers are busy."""
    statuses: list[int] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        for _ in range(n):
            status = attempt()
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=run, args=(count // 6,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize(
    ("path", "refused_before_limit"),
    [("/api/v1/auth/tokens", 401), ("/connexion", 401)],
    ids=["token-creation", "sign-in-form"],
)
def test_the_limit_holds_whichever_worker_answers(
    gunicorn: Gunicorn, make: Factories, path: str, refused_before_limit: int
):
    user = make.user("member")
    gunicorn.wait_until_healthy()
    if path == "/connexion":

        def attempt() -> int:
            return sign_in_form(gunicorn.url, user.email)
    else:

        def attempt() -> int:
            return post_json(gunicorn.url + path, {"email": user.email, "password": "mauvais"})

    first = [attempt() for _ in range(LIMIT)]
    after: list[int] = []
    for _ in range(5):  # the kernel may give one round's connections all to one worker
        after += in_parallel(6 * 6, attempt)
        answered = gunicorn.answers(path, LIMIT + len(after))
        refusing_workers = {pid for pid, status in answered if status == 429}
        if len(refusing_workers) >= 2:
            break

    assert first == [refused_before_limit] * LIMIT
    assert set(after) == {429}, after
    assert sorted(status for _, status in answered) == sorted(first + after)
    assert len(refusing_workers) >= 2, (
        f"every refusal came from one worker {refusing_workers}: not a test of sharing"
    )
