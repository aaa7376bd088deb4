"""8. Fairness: another member's reply while one member floods the Wix rate limiter.

A MediaLink whose limiter allows few calls per short window (as the limiter section's)
and whose per-member file quota is raised (``MEDIALINK_USER_FILES_PER_MINUTE``), so
every command of the flood is accepted and what is measured is the limiter's
round-robin between members, not the quota. Per run: a second member's one-file
command on the idle app (reply time: command sent → its link in the response_url
sink); then one member sends several many-file commands at once, and a moment later
(the limiter now saturated, the flood queued) the second member sends the same
one-file command. Reported: that reply time next to the idle one, and the flood's
completion time (sent → its last reply complete).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.harness import (
    REPO_ROOT,
    AppProcess,
    Bench,
    Commands,
    medialink_text,
)
from benchmarks.plan import Plan
from benchmarks.stats import median, spread
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import CHANNEL_ID, command_form, sign

FLOOD_MEMBER = "U0FLOOD01"
OTHER_MEMBER = "U0OTHER01"


def commands_from(slack: FakeSlack, user: str, file_sets: Sequence[Sequence[str]]) -> Commands:
    """Signed ``/medialink`` commands, all from one member."""
    requests, urls = [], []
    for file_ids in file_sets:
        url = slack.new_response_url(channel=CHANNEL_ID, user=user)
        body = command_form(
            medialink_text(file_ids),
            response_url=url,
            trigger_id=slack.new_trigger_id(),
            user=user,
        )
        timestamp = str(int(time.time()))
        requests.append([body, timestamp, sign(body, timestamp)])
        urls.append(url)
    return Commands(requests, urls, [len(file_ids) for file_ids in file_sets])


def run(bench: Bench, plan: Plan) -> dict[str, Any]:
    fakes = bench.fakes
    fakes.wix.latency = 0.05
    files_per_command = plan.fairness_flood_files
    if len(fakes.files) < files_per_command + 1:
        fakes.add_files(files_per_command + 1 - len(fakes.files))
    flood_files = fakes.files[:files_per_command]
    one_file = [fakes.files[files_per_command]]
    argv = [sys.executable, "-m", "benchmarks.serve", "medialink"]
    argv += ["--wix-rate-limit", str(plan.fairness_limit)]
    argv += ["--wix-rate-period", str(plan.fairness_period)]
    env = fakes.app_env(MEDIALINK_USER_FILES_PER_MINUTE=str(plan.fairness_user_files))
    app = bench.start(AppProcess("medialink-fairness", argv, env, REPO_ROOT))
    app.wait_ready()
    idle: list[float] = []
    during: list[float] = []
    flood_done: list[float] = []
    before_last: list[bool] = []
    queued_at_send: list[int] = []
    ahead: list[float] = []  # seconds between the other member's reply and the flood's last
    problems: list[str] = []
    flood_calls = 0
    try:
        bench.warm_up(app, count=2)
        time.sleep(plan.fairness_period)  # the warm-up's calls leave the window
        for _ in range(plan.runs):
            for _ in range(plan.fairness_idle_samples):
                seconds = _one_reply(bench, app, one_file, problems, "idle")
                if seconds is not None:
                    idle.append(seconds)
                time.sleep(plan.fairness_period)
            fakes.wix.reset()
            flood = commands_from(
                fakes.slack, FLOOD_MEMBER, [flood_files] * plan.fairness_flood_commands
            )
            sent = bench.burst(app, flood)
            problems += [f"flood: {problem}" for problem in sent.problems()[:3]]
            time.sleep(plan.fairness_delay)
            calls_so_far = len(fakes.wix.requests)
            other = commands_from(fakes.slack, OTHER_MEMBER, [one_file])
            other_sent = bench.loadgen.run(app.port, other.requests, concurrency=1)
            problems += [f"other member: {problem}" for problem in other_sent.problems()[:3]]
            # The flood needs about (calls / limit) windows; give it that and some more.
            calls = plan.fairness_flood_commands * (files_per_command + 1)
            within = (calls / plan.fairness_limit + 2) * plan.fairness_period + 30
            other_done = bench.replies(other, within=within)
            flood_replies = bench.replies(flood, within=within)
            if other_done.missing or other_done.refused or flood_replies.missing:
                problems.append(
                    f"replies incomplete: other member {len(other_done.completed)}/1, "
                    f"flood {len(flood_replies.completed)}/{len(flood.response_urls)}"
                )
            flood_calls = len(fakes.wix.requests)
            queued_at_send.append(calls - calls_so_far)
            reply = bench.reply_seconds(other, other_sent, other_done)
            if reply:
                during.append(reply[0])
            if flood_replies.completed:
                last = max(flood_replies.completed.values())
                flood_done.append(last - min(sent.t_send))
                other_at = other_done.completed.get(other.response_urls[0])
                before_last.append(other_at is not None and other_at < last)
                if other_at is not None:
                    ahead.append(last - other_at)
            time.sleep(plan.fairness_period)  # an empty window for the next run
    finally:
        bench.stop(app)

    during_s, idle_s = median(during), median(idle)
    return {
        "limit": plan.fairness_limit,
        "period_s": plan.fairness_period,
        "flood_commands": plan.fairness_flood_commands,
        "flood_files_per_command": files_per_command,
        "flood_wix_calls": flood_calls,
        "user_files_per_minute": plan.fairness_user_files,
        "delay_s": plan.fairness_delay,
        "flood_calls_not_yet_made_at_send": median([float(n) for n in queued_at_send]),
        "idle_reply_ms": idle_s * 1000,
        "idle_reply_ms_range": [value * 1000 for value in spread(idle)],
        "during_reply_ms": during_s * 1000,
        "during_reply_ms_range": [value * 1000 for value in spread(during)],
        "flood_done_s": median(flood_done),
        "flood_done_s_range": list(spread(flood_done)),
        "other_before_flood_end": before_last,
        "other_ahead_of_flood_end_s": median(ahead),
        "targets": {
            "other_member_within_5s_before_flood_ends": bool(during)
            and len(during) == plan.runs
            and max(during) < 5.0
            and all(before_last)
            and len(before_last) == plan.runs,
        },
        "problems": problems[:20],
    }


def _one_reply(
    bench: Bench, app: AppProcess, files: list[str], problems: list[str], label: str
) -> float | None:
    commands = commands_from(bench.fakes.slack, OTHER_MEMBER, [files])
    sent = bench.loadgen.run(app.port, commands.requests, concurrency=1)
    done = bench.replies(commands, within=60)
    if sent.problems() or done.missing or done.refused:
        problems.append(f"{label}: reply incomplete or refused")
        return None
    return bench.reply_seconds(commands, sent, done)[0]
