"""The fake Slack itself: it must refuse what Slack refuses, or the e2e tests prove nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack import (
    APP_TOKEN,
    BOT_TOKEN,
    RESPONSE_URL_LIFETIME,
    FakeSlack,
    Json,
    block_kit_errors,
    modal_errors,
    options_answer_errors,
)


def section(text: str = "hello") -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(**fields: Any) -> Json:
    return {"type": "button", "text": {"type": "plain_text", "text": "Go"}, **fields}


def actions(*elements: Json) -> Json:
    return {"type": "actions", "elements": list(elements)}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


# ---------------------------------------------------------------- Block Kit limits


def test_valid_blocks_pass() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Links"}},
        section("x" * 3000),
        actions(*(button(action_id=f"b{i}", value="v" * 2000) for i in range(25))),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "t"}] * 10},
        {"type": "divider"},
    ]
    assert block_kit_errors(blocks) == []
    assert block_kit_errors([section()] * 50) == []


@pytest.mark.parametrize(
    ("blocks", "where"),
    [
        ([section()] * 51, "/blocks"),
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([actions(*(button(action_id=f"b{i}") for i in range(26)))], "/blocks/0/elements"),
        (
            [actions(button(text={"type": "plain_text", "text": "x" * 76}))],
            "/blocks/0/elements/0/text/text",
        ),
        ([actions(button(value="v" * 2001))], "/blocks/0/elements/0/value"),
        ([actions(button(url="https://x/" + "u" * 2991))], "/blocks/0/elements/0/url"),
        ([actions(button(action_id="a"), button(action_id="a"))], "/blocks/0/elements/1/action_id"),
        ([{**section(), "block_id": "b"}, {**section(), "block_id": "b"}], "/blocks/1/block_id"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/text/text"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "t"}] * 11}], "/elements"),
        ([{**section(), "colour": "red"}], "/blocks/0/colour"),
        ([{"type": "section"}], "/blocks/0"),
        ([{"type": "video_player"}], "/blocks/0/type"),
    ],
)
def test_over_limit_blocks_are_refused(blocks: list[Json], where: str) -> None:
    errors = block_kit_errors(blocks)
    assert errors, "the fake accepted blocks Slack refuses"
    assert any(where in error for error in errors), errors


def test_static_select_limits() -> None:
    def select(count: int, value_len: int = 3) -> Json:
        options = [
            {"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i).zfill(value_len)}
            for i in range(count)
        ]
        return actions({"type": "static_select", "action_id": "s", "options": options})

    assert block_kit_errors([select(100)]) == []
    assert block_kit_errors([select(101)])
    assert block_kit_errors([select(2, value_len=151)])


def test_modal_limits() -> None:
    def text_input(block_id: str) -> Json:
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": "URLs"},
            "element": {"type": "plain_text_input", "action_id": "a"},
        }

    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "MediaLink"},
        "submit": {"type": "plain_text", "text": "Get links"},
        "blocks": [text_input("a")],
    }
    assert modal_errors(view) == []
    assert modal_errors({**view, "title": {"type": "plain_text", "text": "t" * 25}})
    assert modal_errors({k: v for k, v in view.items() if k != "submit"})
    assert modal_errors({**view, "blocks": [text_input(str(i)) for i in range(101)]})
    # Input blocks belong in views, not messages.
    assert block_kit_errors([text_input("a")])


def test_external_selects_and_their_options_answers() -> None:
    def picker(**fields: Any) -> Json:
        element = {"type": "multi_external_select", "action_id": "p", **fields}
        return {
            "type": "modal",
            "title": {"type": "plain_text", "text": "MediaLink"},
            "submit": {"type": "plain_text", "text": "Go"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "b",
                    "label": {"type": "plain_text", "text": "Files"},
                    "element": element,
                }
            ],
        }

    assert modal_errors(picker(min_query_length=2, max_selected_items=5)) == []
    assert modal_errors(picker(min_query_length=-1))
    assert modal_errors(picker(max_selected_items=0))
    assert modal_errors(picker(options=[]))  # its options come from the app, not the view

    def answer(count: int, text_len: int = 5, value_len: int = 5) -> Json:
        option = {"text": {"type": "plain_text", "text": "t" * text_len}, "value": "v" * value_len}
        return {"options": [option] * count}

    assert options_answer_errors({"options": []}) == []
    assert options_answer_errors(answer(100)) == []
    assert options_answer_errors(answer(101))
    assert options_answer_errors(answer(1, text_len=76))
    assert options_answer_errors(answer(1, value_len=151))
    assert options_answer_errors({"text": "busy"})
    assert options_answer_errors({"options": [], "option_groups": []})


# ---------------------------------------------------------------- Web API


async def test_auth_test_needs_the_bot_token(slack: FakeSlack, client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert answer["ok"] is True
    assert answer["team_id"] == slack.team_id
    assert slack.calls_to("auth.test")[0].token == BOT_TOKEN

    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert refused.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as unauthenticated:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    assert unauthenticated.value.response["error"] == "not_authed"


async def test_post_ephemeral_checks_blocks_and_records_json(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    answer = await client.chat_postEphemeral(
        channel="C1", user="U1", text="hi", blocks=[section()], unfurl_links=False
    )
    assert answer["ok"] is True
    call = slack.calls_to("chat.postEphemeral")[0]
    assert call.content_type == "application/json"
    assert call.args["unfurl_links"] is False
    [message] = slack.messages(user="U1")
    assert message.ephemeral
    assert slack.messages(user="U2") == []

    with pytest.raises(SlackApiError) as refused:
        await client.chat_postEphemeral(channel="C1", user="U1", text="x", blocks=[section()] * 51)
    assert refused.value.response["error"] == "invalid_blocks"
    assert refused.value.response["errors"]

    slack.bot_channels = {"C1"}
    with pytest.raises(SlackApiError) as not_member:
        await client.chat_postEphemeral(channel="D99", user="U1", text="x")
    assert not_member.value.response["error"] == "channel_not_found"


async def test_post_message_to_a_user_lands_in_the_dm(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    answer = await client.chat_postMessage(channel="U0ALICE", text="copy", unfurl_media=False)
    assert answer["channel"] == "D0ALICE"
    [message] = slack.messages(channel="D0ALICE")
    assert not message.ephemeral
    assert message.body["unfurl_media"] is False


async def test_scopes_are_enforced(slack: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_open(users="U1")
    assert refused.value.response["error"] == "missing_scope"
    assert "im:write" in refused.value.response["needed"]


async def test_views_open_trigger_is_single_use_and_short_lived(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    view = {
        "type": "modal",
        "callback_id": "m",
        "title": {"type": "plain_text", "text": "MediaLink"},
        "blocks": [section()],
    }
    trigger = slack.new_trigger_id()
    opened = await client.views_open(trigger_id=trigger, view=view)
    assert opened["view"]["callback_id"] == "m"
    assert slack.view(opened["view"]["id"])["blocks"] == [section()]

    with pytest.raises(SlackApiError) as reused:
        await client.views_open(trigger_id=trigger, view=view)
    assert "trigger_exchanged" in json.dumps(reused.value.response.data)

    late = slack.new_trigger_id()
    slack.advance_clock(3.5)
    with pytest.raises(SlackApiError) as expired:
        await client.views_open(trigger_id=late, view=view)
    assert "trigger_expired" in json.dumps(expired.value.response.data)

    with pytest.raises(SlackApiError) as invalid:
        await client.views_open(
            trigger_id=slack.new_trigger_id(),
            view={**view, "title": {"type": "plain_text", "text": "x" * 25}},
        )
    assert invalid.value.response["error"] == "invalid_arguments"


async def test_injected_errors_and_rate_limits(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", "ratelimited", retry_after=7)
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            slack.api_url + "chat.postMessage",
            headers={"Authorization": f"Bearer {BOT_TOKEN}"},
            data={"channel": "C1", "text": "x"},
        )
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "7"
        assert answer.json() == {"ok": False, "error": "ratelimited"}
        again = await http.post(
            slack.api_url + "chat.postMessage",
            headers={"Authorization": f"Bearer {BOT_TOKEN}"},
            data={"channel": "C1", "text": "x", "blocks": json.dumps([section()])},
        )
        assert again.json()["ok"] is True  # a form body with JSON-string blocks works too


async def test_app_token_only_opens_connections(slack: FakeSlack) -> None:
    opened = await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)
    assert opened["url"].startswith(f"ws://127.0.0.1:{slack.port}/socket")
    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(token=APP_TOKEN, base_url=slack.api_url).auth_test()
    assert refused.value.response["error"] == "not_allowed_token_type"


async def test_revoked_tokens_answer_token_revoked(slack: FakeSlack) -> None:
    slack.revoked_tokens |= {BOT_TOKEN, APP_TOKEN}
    with pytest.raises(SlackApiError) as bot:
        await AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url).auth_test()
    assert bot.value.response["error"] == "token_revoked"
    with pytest.raises(SlackApiError) as app:
        await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)
    assert app.value.response["error"] == "token_revoked"
    with pytest.raises(SlackApiError) as wrong:
        await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token="xapp-1-no")
    assert wrong.value.response["error"] == "invalid_auth"


# ---------------------------------------------------------------- response_url


async def test_response_url_accepts_refuses_and_counts_uses(slack: FakeSlack) -> None:
    url = slack.new_response_url(channel="C1", user="U1")
    webhook = AsyncWebhookClient(url)
    ok = await webhook.send(text="hi", blocks=[section()])
    assert (ok.status_code, ok.body) == (200, "ok")
    bad = await webhook.send(text="x", blocks=[section("x" * 3001)])
    assert (bad.status_code, bad.body) == (400, "invalid_blocks")
    empty = await webhook.send_dict({"unfurl_links": False})
    assert (empty.status_code, empty.body) == (400, "no_text")
    for _ in range(2):
        assert (await webhook.send(text="more")).status_code == 200
    sixth = await webhook.send(text="one too many")
    assert sixth.status_code == 404
    assert [post.status for post in slack.posts(url)] == [200, 400, 400, 200, 200, 404]
    assert len(slack.messages(user="U1")) == 3


async def test_response_url_expires_after_30_minutes(slack: FakeSlack) -> None:
    url = slack.new_response_url(channel="C1", user="U1")
    slack.advance_clock(RESPONSE_URL_LIFETIME + 1)
    answer = await AsyncWebhookClient(url).send(text="late")
    assert answer.status_code == 404
    broken = slack.new_response_url(channel="C1", user="U1")
    slack.break_response_url(broken)
    assert (await AsyncWebhookClient(broken).send(text="x")).status_code == 404


async def test_replace_and_delete_act_only_on_the_clicked_message(slack: FakeSlack) -> None:
    command_url = slack.new_response_url(channel="C1", user="U1")
    await AsyncWebhookClient(command_url).send(text="first")
    # A command's response_url cannot replace its own reply: a new message appears.
    await AsyncWebhookClient(command_url).send(text="second", replace_original=True)
    first, second = slack.messages(user="U1")
    assert (first.text, second.text) == ("first", "second")

    click_url = slack.new_response_url(channel="C1", user="U1", message_id=first.id)
    await AsyncWebhookClient(click_url).send(text="replaced", replace_original=True)
    assert slack.message(first.id).text == "replaced"
    assert slack.message(first.id).history[0]["text"] == "first"

    delete_url = slack.new_response_url(channel="C1", user="U1", message_id=second.id)
    await AsyncWebhookClient(delete_url).send_dict({"delete_original": True})
    assert [message.id for message in slack.messages(user="U1")] == [first.id]

    share_url = slack.new_response_url(channel="C1", user="U1", message_id=first.id)
    await AsyncWebhookClient(share_url).send(text="shared", response_type="in_channel")
    shared = slack.messages(user="U2")
    assert [message.text for message in shared] == ["shared"]


# ---------------------------------------------------------------- Socket Mode


async def test_socket_mode_hello_envelope_and_ack(slack: FakeSlack) -> None:
    opened = await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)
    envelope_id = slack.send_envelope("slash_commands", {"command": "/medialink", "text": ""})
    async with aiohttp.ClientSession() as session, session.ws_connect(opened["url"]) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello"
        envelope = await ws.receive_json(timeout=5)
        assert envelope["envelope_id"] == envelope_id
        assert envelope["type"] == "slash_commands"
        assert envelope["accepts_response_payload"] is True
        await ws.send_json({"envelope_id": envelope_id, "payload": {"text": "ok"}})
        acked = await slack.wait_for_ack(envelope_id)
        assert acked.ack == {"text": "ok"}
    assert slack.socket_connections == 1

    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(opened["url"])  # a ticket is good for one connection


async def test_a_workflow_step_is_ended_once_with_its_own_token_and_object_outputs(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    schema = {"urls": {"type": "string", "is_required": True}}
    execution = slack.new_function_execution("step", outputs_schema=schema)
    own = AsyncWebClient(token=execution.token, base_url=slack.api_url)
    other = slack.new_function_execution("step")

    async def error_of(call: Any) -> str:
        with pytest.raises(SlackApiError) as refused:
            await call
        return str(refused.value.response["error"])

    foreign = AsyncWebClient(token=other.token, base_url=slack.api_url)
    refusals = [
        await error_of(
            foreign.functions_completeSuccess(function_execution_id=execution.id, outputs={})
        ),
        await error_of(
            own.functions_completeSuccess(function_execution_id="Fx0NOSUCH", outputs={})
        ),
        await error_of(
            own.api_call(
                "functions.completeSuccess",
                params={"function_execution_id": execution.id, "outputs": "[1]"},
            )
        ),
        await error_of(
            own.functions_completeSuccess(function_execution_id=execution.id, outputs={"urls": 3})
        ),
        await error_of(own.functions_completeError(function_execution_id=execution.id, error=" ")),
    ]
    assert refusals == [
        "invalid_auth",
        "function_execution_not_found",
        "invalid_arguments",
        "parameter_validation_failed",
        "invalid_arguments",
    ]
    assert slack.function_execution(execution.id).state == "running"

    await own.functions_completeSuccess(function_execution_id=execution.id, outputs={"urls": "u"})
    ended = slack.function_execution(execution.id)
    assert (ended.state, ended.outputs, ended.ended_by) == (
        "completed",
        {"urls": "u"},
        execution.token,
    )
    again = client.functions_completeError(function_execution_id=execution.id, error="late")
    assert await error_of(again) == "execution_not_in_running_state"
    await client.functions_completeError(function_execution_id=other.id, error="no links")
    assert (slack.function_execution(other.id).state, slack.function_execution(other.id).error) == (
        "failed",
        "no links",
    )


# ---------------------------------------------------------------- chat.unfurl


async def test_chat_unfurl_takes_only_the_shared_urls_of_its_target() -> None:
    url = "https://static.wixstatic.com/media/a.jpg"
    with FakeSlack(scopes=("chat:write", "links:write")) as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        event = slack.link_shared_event([url], user="U0ALICE01", channel="C0GENERAL")["event"]
        good = {url: {"blocks": [section()]}}

        async def error(**kwargs: Any) -> str | None:
            with pytest.raises(SlackApiError) as raised:
                await client.chat_unfurl(**kwargs)
            code = raised.value.response.get("error")
            return code if isinstance(code, str) else None

        target = {"channel": "C0GENERAL", "ts": event["message_ts"]}
        assert await error(unfurls=good, channel="C0GENERAL") == "invalid_arguments"
        assert await error(unfurls=good, **target, unfurl_id="x", source="composer") == (
            "invalid_arguments"
        )
        assert await error(unfurls=good, channel="C0GENERAL", ts="1.2") == "cannot_find_message"
        assert await error(**target) == "missing_unfurls"
        assert await error(unfurls={"https://example.com/": {"blocks": [section()]}}, **target) == (
            "cannot_unfurl_url"
        )
        assert await error(unfurls={url: {"text": "no blocks"}}, **target) == (
            "invalid_unfurls_format"
        )
        assert await error(unfurls={url: {"blocks": [section("x" * 3001)]}}, **target) == (
            "invalid_blocks"
        )
        rich = {"type": "rich_text", "elements": []}
        assert await error(unfurls={url: {"blocks": [rich]}}, **target) == "invalid_blocks"
        assert slack.unfurls() == []
        await client.chat_unfurl(unfurls=good, **target)
        await client.chat_unfurl(
            unfurls=good, unfurl_id=event["unfurl_id"], source="conversations_history"
        )
        assert [(u.channel, u.unfurl_id) for u in slack.unfurls()] == [
            ("C0GENERAL", None),
            (None, event["unfurl_id"]),
        ]


async def test_chat_unfurl_of_a_composer_event_and_its_scope() -> None:
    url = "https://static.wixstatic.com/media/a.jpg"
    with FakeSlack(scopes=("chat:write",)) as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        event = slack.link_shared_event([url], user="U0ALICE01", channel="C0X", composer=True)
        unfurl_id = event["event"]["unfurl_id"]
        assert event["event"]["channel_id"] == "COMPOSER"
        with pytest.raises(SlackApiError) as raised:
            await client.chat_unfurl(
                unfurls={url: {"blocks": [section()]}}, unfurl_id=unfurl_id, source="composer"
            )
        assert raised.value.response.get("error") == "missing_scope"
        slack.scopes = ("links:write",)
        with pytest.raises(SlackApiError) as raised:  # the wrong source for this unfurl
            await client.chat_unfurl(
                unfurls={url: {"blocks": [section()]}},
                unfurl_id=unfurl_id,
                source="conversations_history",
            )
        assert raised.value.response.get("error") == "cannot_find_message"
        await client.chat_unfurl(
            unfurls={url: {"blocks": [section()]}}, unfurl_id=unfurl_id, source="composer"
        )
        [made] = slack.unfurls()
        assert (made.unfurl_id, made.source) == (unfurl_id, "composer")
