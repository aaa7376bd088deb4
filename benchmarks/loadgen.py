"""``python -m benchmarks.loadgen``: the load generator, in a process of its own.

It sends pre-signed Slack requests to an app on 127.0.0.1 and times each answer.
Being a separate process keeps its timings free of the fakes' work (they run in
threads of the orchestrator, and would otherwise share its interpreter lock), and
a raw HTTP/1.1 client keeps its own cost per request small next to what it measures.

Protocol: one JSON object per line on stdin, one answer per line on stdout.

- ``{"op": "run", "port": P, "requests": [[body, timestamp, signature], ...],
  "concurrency": C, "fresh_connections": false}``: ``C`` workers, each on its own
  connection (opened before timing starts, unless ``fresh_connections``, when each
  request opens one and the connect is timed), take the requests in order, one at a
  time, each sending its next as soon as its last was answered. With ``C`` equal to
  the number of requests, that is a burst of ``C`` concurrent requests. Answers
  ``{"t_send": [...], "t_ack": [...], "status": [...], "ack_bytes": [...],
  "errors": [...]}`` in request order; times are ``time.monotonic()``, which is
  CLOCK_MONOTONIC and so comparable with the orchestrator's clock.
- ``{"op": "quit"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

EVENTS_PATH = "/slack/events"
REQUEST_TIMEOUT = 30.0
_CONNECT_PARALLELISM = 32  # well under aiohttp's listen backlog of 128


@dataclass
class _Results:
    t_send: list[float]
    t_ack: list[float]
    status: list[int]
    ack_bytes: list[int]
    errors: list[str] = field(default_factory=list)


def _request_bytes(port: int, body: str, timestamp: str, signature: str) -> bytes:
    payload = body.encode()
    head = (
        f"POST {EVENTS_PATH} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {signature}\r\n"
        "\r\n"
    )
    return head.encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """(status, body length, server closes the connection) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = closing = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            closing = b"close" in value.lower()
    if not chunked:
        await reader.readexactly(length)
        return status, length, closing
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        total += size
        if size == 0:
            return status, total, closing


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _connect(port: int) -> _Connection:
    return await asyncio.open_connection("127.0.0.1", port)


def _close(connection: _Connection | None) -> None:
    if connection is not None:
        connection[1].close()


async def run_job(job: dict[str, Any]) -> _Results:
    port = int(job["port"])
    requests = [_request_bytes(port, *triple) for triple in job["requests"]]
    concurrency = max(1, min(int(job["concurrency"]), len(requests)))
    fresh = bool(job.get("fresh_connections", False))
    count = len(requests)
    results = _Results([0.0] * count, [0.0] * count, [0] * count, [0] * count)

    connections: list[_Connection | None] = [None] * concurrency
    if not fresh:
        gate = asyncio.Semaphore(_CONNECT_PARALLELISM)

        async def open_one(index: int) -> None:
            async with gate:
                # If this fails (the app is down), the worker tries again and records it.
                with contextlib.suppress(OSError):
                    connections[index] = await _connect(port)

        await asyncio.gather(*(open_one(index) for index in range(concurrency)))

    queue = iter(range(count))

    async def worker(slot: int) -> None:
        for index in queue:
            connection = connections[slot]
            started = time.monotonic()
            results.t_send[index] = started
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    if fresh or connection is None:
                        connection = await _connect(port)
                    reader, writer = connection
                    writer.write(requests[index])
                    status, length, closing = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
                results.t_ack[index] = time.monotonic()
                results.errors.append(f"request {index}: {type(error).__name__}: {error}")
                _close(connection)
                connections[slot] = None
                continue
            results.t_ack[index] = time.monotonic()
            results.status[index] = status
            results.ack_bytes[index] = length
            if fresh or closing:
                _close(connection)
                connection = None
            connections[slot] = connection

    try:
        await asyncio.gather(*(worker(slot) for slot in range(concurrency)))
    finally:
        for connection in connections:
            _close(connection)
    return results


async def main_async() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 28)  # a job is one (long) line
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        job = json.loads(line)
        if job.get("op") == "quit":
            return
        results = await run_job(job)
        sys.stdout.write(json.dumps(results.__dict__) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main_async())
