"""What-if variants of MediaLink, for before/after numbers without touching ``bot/``.

Each one stands in for a change to the app (see README, "Findings"); the runner
applies it only when asked (``python -m benchmarks.serve medialink --experiment
NAME``), and the default benchmark measures the app as it is. The variants here take
a fix *out*, so section 6 shows what it is worth in the same run.

Earlier variants (sniffio, Wix calls over aiohttp, httpx logs at WARNING, work after
the ack, one shared response_url session) are part of the app; their before/after
numbers are in the README.

- ``no-give-way``: work after an ack starts at once, instead of giving way to the
  acks still pending (``bot.dispatch.PendingAcks``, up to ``GIVE_WAY_LIMIT``).
- ``no-calm``: work gives way to the pending acks but not to requests still arriving
  (``CALM`` set to 0).
- ``no-gc-freeze``: start-up objects stay in the cycle collector's scans
  (``bot.run.freeze_start_up_objects`` is not called; see ``benchmarks/serve.py``).
- ``no-collector-hold``: the cycle collector runs whenever it is due, acks pending or
  not (``bot.dispatch.CollectorHold`` off).
"""

from __future__ import annotations

EXPERIMENTS = ("no-give-way", "no-calm", "no-gc-freeze", "no-collector-hold")


def apply(name: str) -> None:
    """Check a variant's name; ``benchmarks/serve.py`` applies it where it builds the app
    (the dispatcher's ``give_way_limit``, ``calm`` and collector hold, and the start-up
    freeze)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}")
