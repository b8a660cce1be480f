"""`questline serve` as a real process on 127.0.0.1: start, requests, an open award stream,
SIGTERM, and a graceful stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

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


def test_serve_answers_streams_and_stops_gracefully_on_sigterm(database_url: str) -> None:
    key = in_thread(_seed(database_url))
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
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
