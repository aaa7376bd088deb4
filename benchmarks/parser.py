"""5. The reference parser: references per second, and how its cost grows with the text.

``parse_media_refs`` runs in this process (it is pure: no I/O). Texts are built from a
seeded random mix of every form people paste: static/video/ugd/mp3 URLs, usrfiles
links with ``?dn=``, ``wix:`` media URLs, Slack's ``<url|label>`` wrapping and
``&amp;``, bare file IDs, other links, mentions and ordinary words. Two shapes:

- ``message``: a chat message, references among words and line breaks;
- ``one word``: references joined by commas with no space, so the whole text is one
  token that the parser has to split (the worst case for its splitting step).

For each size the parse is repeated until it has run for a while, several times; the
median time per parse is reported, per KiB too: constant time per KiB is linear cost,
and so is a fitted exponent of 1 in time ~ size^k.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable
from typing import Any

from benchmarks.plan import Plan
from benchmarks.stats import median
from bot.wix.refs import DEFAULT_MAX_REFS, parse_media_refs

UNLIMITED = 10**9  # parse every reference, so the cost of each one is measured
MAX_EXPONENT = 1.15  # "linear, not worse", with room for the noise of a shared machine
_WORDS = ["please", "grab", "these", "for", "the", "deck", "and", "the", "new", "one"]


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _file_id(rng: random.Random) -> str:
    return f"{_hex(rng, 6)}_{_hex(rng, 32)}"


def _reference(rng: random.Random) -> str:
    file_id = _file_id(rng)
    forms: list[Callable[[], str]] = [
        lambda: f"https://static.wixstatic.com/media/{file_id}~mv2.jpg",
        lambda: (
            f"https://static.wixstatic.com/media/{file_id}~mv2.png"
            f"/v1/fill/w_640,h_480,al_c,q_85/team-photo.png"
        ),
        lambda: f"https://video.wixstatic.com/video/{file_id}/720p/mp4/file.mp4",
        lambda: f"https://static.wixstatic.com/ugd/{file_id}.pdf",
        lambda: f"https://static.wixstatic.com/mp3/{file_id}.mp3",
        lambda: (
            f"https://{_hex(rng, 8)}-8657-47e2-9cd9-e9033c3d8da0.usrfiles.com/ugd/"
            f"{file_id}.pdf?dn=Q3%20report.pdf&amp;index=true"
        ),
        lambda: f"wix:image://v1/{file_id}~mv2.jpg/photo.jpg#originWidth=1200&originHeight=800",
        lambda: f"wix:video://v1/{file_id}/clip.mp4#posterUri={file_id}f000.jpg",
        lambda: f"<https://static.wixstatic.com/media/{file_id}~mv2.jpg|photo>",
        lambda: f"{file_id}~mv2.webp",
    ]
    return rng.choice(forms)()


def _filler(rng: random.Random) -> str:
    return rng.choice(
        [
            rng.choice(_WORDS),
            rng.choice(_WORDS),
            "<@U0ALICE01>",
            "https://example.com/brief?ref=slack",
            "<https://docs.google.com/document/d/1AbC|the brief>",
        ]
    )


def build_text(size: int, shape: str, seed: int = 4) -> str:
    """About ``size`` characters of the given shape."""
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        if shape == "one word":
            part = _reference(rng).replace("<", "").replace(">", "").split("|")[0] + ","
        else:
            words = [_filler(rng) for _ in range(rng.randint(1, 4))]
            part = " ".join([*words, _reference(rng)]) + rng.choice([" ", "\n", ", "])
        parts.append(part)
        length += len(part)
    return "".join(parts)[:size]


def _time_per_call(text: str, max_refs: int, min_seconds: float, repeats: int) -> float:
    calls = 1
    while True:  # calibrate: enough calls to run for min_seconds (bounded by size)
        started = time.perf_counter()
        for _ in range(calls):
            parse_media_refs(text, max_refs=max_refs)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds or calls >= 1 << 16:
            break
        calls *= 2
    timings = [elapsed / calls]
    for _ in range(repeats - 1):
        started = time.perf_counter()
        for _ in range(calls):
            parse_media_refs(text, max_refs=max_refs)
        timings.append((time.perf_counter() - started) / calls)
    return median(timings)


def growth_exponent(points: list[tuple[float, float]]) -> float:
    """k in time = c * size^k, by least squares on (log size, log time)."""
    if len(points) < 2:
        return math.nan
    xs = [math.log(size) for size, _ in points]
    ys = [math.log(seconds) for _, seconds in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return numerator / denominator if denominator else math.nan


def run(plan: Plan) -> dict[str, Any]:
    gc.collect()
    shapes: dict[str, list[dict[str, Any]]] = {}
    for shape in ("message", "one word"):
        rows = []
        for kb in plan.parser_sizes_kb:
            text = build_text(kb * 1024, shape)
            refs = len(parse_media_refs(text, max_refs=UNLIMITED).refs)
            seconds = _time_per_call(text, UNLIMITED, plan.parser_min_seconds, plan.parser_repeats)
            rows.append(
                {
                    "kib": kb,
                    "refs": refs,
                    "ms": seconds * 1000,
                    "refs_per_second": refs / seconds,
                    "us_per_kib": seconds * 1e6 / kb,
                }
            )
        base = next((row for row in rows if row["kib"] == 4), rows[0])
        for row in rows:
            row["per_kib_vs_4kib"] = row["us_per_kib"] / base["us_per_kib"]
        shapes[shape] = rows

    four_kb = build_text(4 * 1024, "message")
    as_app = _time_per_call(four_kb, DEFAULT_MAX_REFS, plan.parser_min_seconds, plan.parser_repeats)
    message = shapes["message"]
    # Fixed costs make the smallest texts dearer per KiB, so growth is judged from 4 KiB up:
    # the exponent k of time ~ size^k, fitted by least squares on a log-log scale, is 1
    # for linear cost and 2 for quadratic.
    exponents = {
        shape: growth_exponent([(row["kib"], row["ms"]) for row in rows if row["kib"] >= 4])
        for shape, rows in shapes.items()
    }
    worst = max(exponents.values(), default=1.0)
    return {
        "shapes": shapes,
        "four_kib_message": {
            "refs": next(row["refs"] for row in message if row["kib"] == 4)
            if any(row["kib"] == 4 for row in message)
            else None,
            "refs_per_second": next(
                (row["refs_per_second"] for row in message if row["kib"] == 4), None
            ),
            "ms_with_app_max_refs": as_app * 1000,
            "app_max_refs": DEFAULT_MAX_REFS,
        },
        "growth_exponent": exponents,
        "targets": {"parser_linear": worst <= MAX_EXPONENT},
    }
