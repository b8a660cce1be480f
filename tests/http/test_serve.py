"""`questline serve` as a real process on 127.0.0.1: start, requests, an open award stream,
SIGTERM, and a graceful stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pymysql
from sqlalchemy.engine import make_url

from questline.adapters.http.server import GRACE_SECONDS
from tests.cli.conftest import in_thread
from tests.http.live import LEARNERS, _seed

QUESTLINE = Path(sys.executable).with_name("questline")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"questline serve exited early: {process.stdout.read()}")
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("questline serve did not answer within 30 s")


@contextmanager
def serving(database_url: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`questline serve` on a free port, answering; killed at the end if still running."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "QUESTLINE_HTTP_RATE_LIMIT": "100/second"}
    process = subprocess.Popen(
        [str(QUESTLINE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(base, process)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@contextmanager
def learner_held(database_url: str, telegram_id: int) -> Iterator[None]:
    """Another connection holds what recording an event of the learner waits for: SQLite's
    write lock, or the learner's row on MariaDB."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = pymysql.connect(
            host=url.host,
            port=url.port or 3306,
            user=url.username,
            password=url.password or "",
            database=url.database,
        )
        holder.begin()
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM users WHERE telegram_id = %s FOR UPDATE", (telegram_id,))
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def test_serve_answers_streams_and_stops_gracefully_on_sigterm(database_url: str) -> None:
    key = in_thread(_seed(database_url))
    with serving(database_url) as (process, base):
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base}/v1/ready").json() == {"status": "ok"}

        lines: list[str] = []
        opened = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{base}/v1/awards/stream", headers=auth, timeout=30) as r:
                opened.set()
                lines.extend(r.iter_lines())  # until the server ends the stream

        listener = threading.Thread(target=listen)
        listener.start()
        assert opened.wait(10)
        time.sleep(0.2)  # the stream's subscription follows its response headers
        lesson = httpx.get(f"{base}/v1/learners/{LEARNERS[0]}/progress", headers=auth).json()[
            "modules"
        ][0]["lessons"][0]["lesson_id"]
        event = {"type": "LESSON_COMPLETED", "telegram_id": LEARNERS[0], "lesson_id": lesson}
        recorded = httpx.post(f"{base}/v1/events", json=event, headers=auth)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["awards"]
        # the stream hears the award from the outbox, after the answer (which holds it)
        for _ in range(100):
            if any(line.startswith("data: ") for line in lines):
                break
            time.sleep(0.05)

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        listener.join(10)
        assert not listener.is_alive(), "the award stream was not ended by the stop"
        assert time.monotonic() - started < 10  # ended, not timed out
        data = [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]
        assert data[0]["slug"] == recorded.json()["awards"][0]["slug"]
        log = process.stdout.read()
        assert "Shutting down" in log and "questline API stopped" in log


def test_a_request_waiting_on_the_database_answers_503_when_the_server_stops(
    database_url: str,
) -> None:
    """Not uvicorn's bare 500 at the end of its grace: a 503 that tells the client to send
    the event again with its key."""
    key = in_thread(_seed(database_url))
    answers: list[httpx.Response] = []
    with serving(database_url) as (process, base):
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "stopping-1"}
        event = {"type": "LOGIN", "telegram_id": LEARNERS[1]}
        sender = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{base}/v1/events", json=event, headers=headers, timeout=40)
            )
        )
        with learner_held(database_url, LEARNERS[1]):
            sender.start()
            time.sleep(1)  # the request waits for the lock
            stopped = time.monotonic()
            process.send_signal(signal.SIGTERM)
            sender.join(20)
            answered_within = time.monotonic() - stopped
        assert process.wait(timeout=30) == 0
        log = process.stdout.read()
    assert answered_within < GRACE_SECONDS
    (answer,) = answers
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "5"
    assert "the server stopped before the answer was ready" in answer.json()["detail"]
    assert "Traceback" not in log and "Internal Server Error" not in log
