"""The Workflow Builder step end to end: the fake Slack sends a signed ``function_executed``
event to the served app, and the step ends with ``functions.completeSuccess`` (its outputs
checked against manifest.yaml's definition) or ``functions.completeError``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.dispatch import Dispatcher
from bot.slack.listeners import workflow
from bot.slack.surfaces import WORKFLOW_STEP
from tests.fakes.slack import (
    TEAM_ID,
    FakeSlack,
    FunctionExecution,
    Json,
    function_executed_event,
    user_context,
)
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.slack.audit_helpers import recorded_events as audit_events
from tests.slack.audit_helpers import started
from tests.slack.conftest import (
    OTHER_USER_ID,
    REPO_ROOT,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    issued_urls,
    slack_dates,
    wix_url,
)


def step_definition() -> Json:
    manifest = yaml.safe_load((REPO_ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    step: Json = manifest["functions"][WORKFLOW_STEP]
    return step


def as_slack_echoes_it(step: Json) -> Json:
    """The definition as the event carries it, parameters as lists (docs/slack.md,
    Workflow steps)."""
    return {
        "title": step["title"],
        "description": step["description"],
        "input_parameters": list(step["input_parameters"].values()),
        "output_parameters": list(step["output_parameters"].values()),
    }


async def run_step(
    medialink: MediaLink, inputs: Json, *, with_token: bool = True, step: Json | None = None
) -> tuple[httpx.Response, FunctionExecution]:
    step = step or step_definition()
    execution = medialink.slack.new_function_execution(
        WORKFLOW_STEP, outputs_schema=step["output_parameters"]
    )
    event = function_executed_event(
        execution, inputs, function=as_slack_echoes_it(step), with_token=with_token
    )
    response = await medialink.post(json.dumps(event), content_type="application/json")
    return response, execution


def step_inputs(text: str, *, user: str = USER_ID, **more: str) -> Json:
    """The step's inputs as Slack sends them: the person as a user_context."""
    return {workflow.INPUT_TEXT: text, workflow.INPUT_USER: user_context(user), **more}


async def failed_with(fake_slack: FakeSlack, execution: FunctionExecution) -> str:
    ended = await fake_slack.wait_for_function_end(execution.id)
    assert ended.state == "failed", ended
    assert ended.error is not None
    assert "Traceback" not in ended.error
    assert fake_slack.bot_token not in ended.error
    assert ended.token not in ended.error
    return ended.error


# ------------------------------------------------------------------ success


async def test_the_step_completes_with_links_a_plain_list_and_the_expiry(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(make_medialink, tmp_path)
    plan = fake_wix.add_file(display_name="plan.pdf", kind="document")
    clip = fake_wix.add_file(display_name="clip.mp4", kind="video", renditions=["720p.mp4"])
    text = f"New brief: {wix_url(plan)} and the cut {wix_url(clip)} (thanks!)"
    asked = time.time()
    response, execution = await run_step(
        medialink, step_inputs(text, expires="2h", renditions="src,720p.mp4")
    )
    assert response.status_code == 200

    ended = await fake_slack.wait_for_function_end(execution.id)
    assert ended.state == "completed", ended.error
    assert ended.ended_by == execution.token  # the step's own token (bot_access_token)
    outputs = ended.outputs
    assert outputs is not None
    urls = outputs[workflow.OUTPUT_URLS].splitlines()
    assert set(urls) == issued_urls(fake_wix)
    assert len(urls) == 3  # plan's original; clip's original and 720p
    links = outputs[workflow.OUTPUT_LINKS]
    assert all(f"<{url}|" in links for url in urls)
    assert "*plan.pdf*" in links
    assert "*clip.mp4*" in links
    assert "|720p.mp4>" in links
    expires_at = outputs[workflow.OUTPUT_EXPIRES_AT]
    assert isinstance(expires_at, int)
    assert asked + 7200 - 60 <= expires_at <= time.time() + 7200 + 60
    assert [ts for ts, _ in slack_dates(links)] == [expires_at]

    found = await audit_events(medialink, 2, outcome="ok")
    assert {event.file_id for event in found} == {plan, clip}
    for event in found:
        assert event.entry == "workflow"
        assert (event.user_id, event.team_id) == (USER_ID, TEAM_ID)
        assert event.expires_at is not None
        assert repr(event).count("http") == 0


async def test_without_a_step_token_the_bot_token_ends_the_step(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    """Bolt uses the event's bot_access_token when there is one; without it (whether Slack
    always sends one is UNCONFIRMED) the bot token still ends the step."""
    medialink = await make_medialink()
    file_id = fake_wix.add_file()
    _, execution = await run_step(medialink, step_inputs(wix_url(file_id)), with_token=False)
    ended = await fake_slack.wait_for_function_end(execution.id)
    assert ended.state == "completed", ended.error
    assert ended.ended_by == fake_slack.bot_token


async def test_the_ack_goes_back_before_the_wix_work_ends(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink()
    file_id = fake_wix.add_file()
    fake_wix.inject(GENERATE_FILE_DOWNLOAD_URL, delay=1.0)  # the work outlasts the ack
    response, execution = await run_step(medialink, step_inputs(wix_url(file_id)))
    answered = time.monotonic()
    assert response.status_code == 200
    assert fake_slack.function_execution(execution.id).state == "running"
    ended = await fake_slack.wait_for_function_end(execution.id)
    assert ended.state == "completed", ended.error
    [generate] = fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
    assert generate.finished is not None
    assert answered < generate.finished  # the ack did not wait for Wix


async def test_a_redelivered_event_makes_no_second_set_of_links(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink()
    file_id = fake_wix.add_file()
    step = step_definition()
    execution = fake_slack.new_function_execution(
        WORKFLOW_STEP, outputs_schema=step["output_parameters"]
    )
    body = json.dumps(
        function_executed_event(
            execution, step_inputs(wix_url(file_id)), function=as_slack_echoes_it(step)
        )
    )
    first = await medialink.post(body, content_type="application/json")
    second = await medialink.post(body, content_type="application/json")
    assert (first.status_code, second.status_code) == (200, 200)
    await fake_slack.wait_for_function_end(execution.id)
    await medialink.settle()
    assert len(fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)) == 1
    assert len(fake_slack.calls_to("functions.completeSuccess")) == 1


# ------------------------------------------------------------------ failures


async def test_a_person_the_policy_refuses_ends_the_step_with_why_and_whom_to_ask(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(
        make_medialink, tmp_path, medialink_allowed_users=USER_ID, medialink_admins="U0ADMIN01"
    )
    file_id = fake_wix.add_file()
    _, execution = await run_step(medialink, step_inputs(wix_url(file_id), user=OTHER_USER_ID))
    error = await failed_with(fake_slack, execution)
    assert f"@{OTHER_USER_ID}" in error  # who was refused: the person the step acts for
    assert "not on the list" in error
    assert "@U0ADMIN01" in error  # whom to ask
    assert "<@" not in error  # plain text: Slack shows the error as it is
    assert fake_wix.requests == []
    [event] = await audit_events(medialink, 1, outcome="refused")
    assert (event.entry, event.user_id, event.reason) == (
        "workflow",
        OTHER_USER_ID,
        "user_not_allowed",
    )


async def test_the_policy_judges_the_steps_person_not_the_workflow(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_allowed_users=OTHER_USER_ID)
    file_id = fake_wix.add_file()
    _, execution = await run_step(medialink, step_inputs(wix_url(file_id), user=OTHER_USER_ID))
    ended = await fake_slack.wait_for_function_end(execution.id)
    assert ended.state == "completed", ended.error


async def test_text_without_wix_links_ends_the_step_saying_so(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink()
    _, execution = await run_step(
        medialink, step_inputs("see https://example.com/brochure.pdf, thanks")
    )
    error = await failed_with(fake_slack, execution)
    assert "No Wix media URL or file ID was found" in error
    assert fake_wix.requests == []


async def test_a_bad_or_too_long_expiry_ends_the_step_saying_what_to_use(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink()
    file_id = fake_wix.add_file()
    _, unreadable = await run_step(medialink, step_inputs(wix_url(file_id), expires="soonish"))
    error = await failed_with(fake_slack, unreadable)
    assert error.startswith("This step's settings cannot be used. Expiry:")
    assert "2h" in error  # an example of what works
    _, too_long = await run_step(medialink, step_inputs(wix_url(file_id), expires="400d"))
    error = await failed_with(fake_slack, too_long)
    assert "at most" in error
    assert fake_wix.requests == []


async def test_a_wix_failure_ends_the_step_with_wix_reason_and_is_recorded(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(make_medialink, tmp_path)
    missing = "2acbb8_0000000000000000000000000000dead~mv2.jpg"
    _, execution = await run_step(medialink, step_inputs(wix_url(missing)))
    error = await failed_with(fake_slack, execution)
    assert error.startswith("MediaLink made no link.")
    assert missing in error
    [event] = await audit_events(medialink, 1, file_id=missing)
    assert event.entry == "workflow"
    assert event.outcome not in {"ok", "refused"}


async def test_a_step_without_its_person_ends_saying_how_to_start_the_workflow(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink()
    file_id = fake_wix.add_file()
    _, execution = await run_step(medialink, {workflow.INPUT_TEXT: wix_url(file_id)})
    error = await failed_with(fake_slack, execution)
    assert "Slack did not say who is running this workflow" in error
    assert "button" in error
    assert fake_wix.requests == []


def with_plain_user_id(step: Json) -> Json:
    """The step as it was defined before: a builder picks any person for its input."""
    inputs = dict(step["input_parameters"])
    inputs[workflow.INPUT_USER] = {
        **inputs[workflow.INPUT_USER],
        "type": "slack#/types/user_id",
        "title": "Make links for",
    }
    return {**step, "input_parameters": inputs}


async def test_a_builder_naming_an_admin_gets_no_links_for_them(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> None:
    """The privilege escalation: a builder who is no admin (not even on the user list)
    names an admin as the person the step acts for, to reach a private file. Only Slack's
    user_context says who runs the workflow; a plain user ID, or any other shape, is
    refused before the policy or Wix is asked."""
    admin = "U0ADMIN01"
    medialink = await started(
        make_medialink, tmp_path, medialink_allowed_users=USER_ID, medialink_admins=admin
    )
    private = fake_wix.add_file(private=True)
    forged: list[Any] = [
        admin,  # what Workflow Builder sent for the old user_id input
        {"id": admin},  # a user_context without Slack's secret
        {"id": admin, "secret": ""},
        [admin],
    ]
    for value in forged:
        _, execution = await run_step(
            medialink,
            {workflow.INPUT_TEXT: wix_url(private), workflow.INPUT_USER: value},
            step=with_plain_user_id(step_definition()),
        )
        error = await failed_with(fake_slack, execution)
        assert "remove this step and add it again" in error, value
    assert fake_wix.requests == []
    # The admin running the workflow themself is served, through Slack's user_context.
    _, execution = await run_step(medialink, step_inputs(wix_url(private), user=admin))
    ended = await fake_slack.wait_for_function_end(execution.id)
    assert ended.state == "completed", ended.error
    [made] = await audit_events(medialink, 1, outcome="ok")
    assert made.user_id == admin


async def test_a_step_turned_away_as_busy_is_failed_not_left_running(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(dispatcher=Dispatcher(max_running=1))
    fake_wix.inject(GENERATE_FILE_DOWNLOAD_URL, delay=1.0)  # the first step's work runs on
    _, first = await run_step(medialink, step_inputs(wix_url(fake_wix.add_file())))
    _, second = await run_step(medialink, step_inputs(wix_url(fake_wix.add_file())))
    error = await failed_with(fake_slack, second)
    assert "too busy" in error
    ended = await fake_slack.wait_for_function_end(first.id)
    assert ended.state == "completed", ended.error
