import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from yarl import URL

from bot.audit.store import SqlAuditTrail
from bot.dispatch import Arrival, CollectorHold, Dispatcher, ListenerAck, PendingAcks
from bot.slack.listeners import SlackDeps
from bot.slack.middleware import RequestContext
from bot.slack.respond import SessionRespond
from bot.wix.auth import ApiKeyAuth
from bot.wix.client import WixMediaClient
from bot.wix.links import LinkService
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.slack.conftest import CHANNEL_ID, SIGNING_SECRET, USER_ID, command_form, sign


def listener_ack(arrival: Arrival | None, pending: PendingAcks | None = None) -> ListenerAck:
    return ListenerAck(
        AsyncBoltRequest(body=""),
        arrival=arrival,
        pending=pending or PendingAcks(),
        give_way_limit=1.0,
        on_acked=lambda: None,
    )


async def test_ack_returns_only_once_the_server_holds_the_ack() -> None:
    arrival = Arrival()
    sent = arrival.ack_sent
    ack = listener_ack(arrival)
    call = ack.work = asyncio.create_task(ack(text="working on it"))  # as the wrapper does
    await asyncio.sleep(0.05)
    # The answer is ready for Bolt to pick up, but the listener's work is held back.
    assert ack.response is not None
    assert ack.response.status == 200
    assert not call.done()
    sent.set()
    response = await asyncio.wait_for(call, 1)
    assert response is ack.response


async def test_ack_does_not_wait_for_an_answer_that_already_went() -> None:
    arrival = Arrival()
    arrival.ack_sent.set()
    await asyncio.wait_for(listener_ack(arrival)(), 1)


async def test_work_after_an_ack_gives_way_to_the_acks_still_pending() -> None:
    pending = PendingAcks()
    arrival = Arrival()
    arrival.ack_sent.set()
    with pending.answering():  # another request, still being answered
        ack = listener_ack(arrival, pending)
        call = ack.work = asyncio.create_task(ack())
        await asyncio.sleep(0.05)
        assert ack.answered.done()  # Bolt can send this ack …
        assert not call.done()  # … but the work after it waits for the other one
        assert len(pending) == 1
    await asyncio.wait_for(call, 1)
    assert len(pending) == 0


async def test_a_request_read_just_after_the_last_ack_still_comes_first() -> None:
    pending = PendingAcks()
    order: list[str] = []

    async def request_arriving() -> None:
        # Stands for a request read from the socket in the loop turn after the last ack.
        await asyncio.sleep(0)
        with pending.answering():
            await asyncio.sleep(0.02)
            order.append("ack")

    async def work() -> None:
        await pending.drained(1.0)
        order.append("work")

    await asyncio.gather(work(), request_arriving())
    assert order == ["ack", "work"]


async def test_giving_way_is_bounded() -> None:
    pending = PendingAcks()
    with pending.answering():  # a request that never finishes
        await asyncio.wait_for(pending.drained(0.05), 1)


async def test_the_collector_waits_for_the_calm_after_the_acks() -> None:
    pending = PendingAcks(calm=0.01, collector=CollectorHold(5.0))
    assert gc.isenabled()
    with pending.answering():
        assert not gc.isenabled()
    assert not gc.isenabled()  # a request of the same burst may still be on its way
    await asyncio.sleep(0.1)
    assert gc.isenabled()


async def test_holding_the_collector_is_bounded() -> None:
    pending = PendingAcks(collector=CollectorHold(0.05))
    with pending.answering():  # a request that never finishes
        assert not gc.isenabled()
        await asyncio.sleep(0.2)
        assert gc.isenabled()


async def test_a_collector_disabled_by_someone_else_stays_disabled() -> None:
    settled = CollectorHold(5.0)  # a hold left by an earlier test is taken over, then ended
    settled.hold()
    settled.release()
    gc.disable()
    try:
        pending = PendingAcks(calm=0.0, collector=CollectorHold(5.0))
        with pending.answering():
            pass
        await asyncio.sleep(0.05)
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_a_hold_left_by_a_stopped_loop_is_taken_over_by_the_next() -> None:
    stale = CollectorHold(60.0)
    stale.hold()  # its loop ends (a test's, say) before it releases
    assert not gc.isenabled()
    pending = PendingAcks(calm=0.0, collector=CollectorHold(5.0))
    with pending.answering():
        pass
    await asyncio.sleep(0.05)
    assert gc.isenabled()
    stale.release()  # no longer the holder: changes nothing
    assert gc.isenabled()


async def test_a_hold_taken_back_keeps_only_its_new_bound() -> None:
    first, second = CollectorHold(0.05), CollectorHold(5.0)
    first.hold()
    second.hold()  # takes the hold over
    first.limit = 5.0
    first.hold()  # takes it back, bounded anew
    try:
        await asyncio.sleep(0.1)  # past the first hold's first bound
        assert not gc.isenabled()
    finally:
        first.release()
        second.release()
    assert gc.isenabled()


async def test_the_shared_sessions_keep_no_cookie_from_one_answer_for_the_next() -> None:
    # Everyone's Web API calls and response_url posts share these sessions: a cookie an
    # answer set must not ride along with someone else's next request. (The fakes run
    # on 127.0.0.1, whose cookies aiohttp never keeps, so this is checked on the jar.)
    dispatcher = Dispatcher()
    try:
        for session in (dispatcher.web_api_session(), dispatcher._webhook_session()):
            session.cookie_jar.update_cookies(
                {"visitor": "someone-else"}, URL("https://slack.com/api/users.info")
            )
            assert len(session.cookie_jar) == 0
            assert session.timeout.total is not None  # every request has a deadline
    finally:
        await dispatcher.finish(0.0)


async def test_respond_posts_through_the_shared_session_and_leaves_it_open() -> None:
    with FakeSlack() as slack:
        first = slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
        second = slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
        connector = aiohttp.TCPConnector(limit=1)  # one connection: the posts must share it
        async with aiohttp.ClientSession(connector=connector) as session:
            for url in (first, second):
                answer = await SessionRespond(response_url=url, session=lambda: session)(
                    "links", response_type="ephemeral", unfurl_links=False, unfurl_media=False
                )
                assert answer.status_code == 200
            assert not session.closed
        [one], [two] = slack.posts(first), slack.posts(second)
        for post in (one, two):
            assert post.body["text"] == "links"
            assert post.body["unfurl_links"] is False


# ------------------------------------------ Dispatcher.listen, through a real Bolt app


@dataclass
class Probe:
    """A Bolt app run the way MediaLink runs (process_before_response, RequestContext),
    with one listener written for the test, and what its error handler saw."""

    app: AsyncApp
    dispatcher: Dispatcher
    errors: list[Exception] = field(default_factory=list)

    async def dispatch(self, slack: FakeSlack) -> BoltResponse:
        """Dispatch a signed command as bot.server does once it has verified it."""
        body = command_form(
            "go",
            response_url=slack.new_response_url(channel=CHANNEL_ID, user=USER_ID),
            trigger_id=slack.new_trigger_id(),
        )
        timestamp = str(int(time.time()))
        headers: dict[str, str | Sequence[str]] = {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": sign(body, timestamp),
        }
        with self.dispatcher.arrived():
            return await self.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))


MakeProbe = Callable[..., Probe]


@pytest.fixture
async def probe() -> AsyncIterator[MakeProbe]:
    """``probe(slack, listener, wrap=True)``; each probe's dispatcher is finished after
    the test, closing the sessions its requests opened."""
    made: list[Probe] = []

    def make(
        slack: FakeSlack, listener: Callable[..., Awaitable[None]], *, wrap: bool = True
    ) -> Probe:
        made.append(new_probe(slack, listener, wrap=wrap))
        return made[-1]

    yield make
    for each in made:
        await each.dispatcher.finish(1.0)


def new_probe(
    slack: FakeSlack, listener: Callable[..., Awaitable[None]], *, wrap: bool = True
) -> Probe:
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )
    dispatcher = Dispatcher()
    links = LinkService(WixMediaClient(ApiKeyAuth("IST.unused", "site"), base_url=slack.api_url))
    deps = SlackDeps(
        links=links,
        max_refs=1,
        share_enabled=False,
        respond_to=dispatcher.respond,
        audit=SqlAuditTrail("sqlite+aiosqlite:///:memory:"),  # never started: nothing recorded
    )
    app.use(RequestContext(dispatcher, deps))
    result = Probe(app, dispatcher)

    async def record(error: Exception) -> None:
        result.errors.append(error)

    app.error(record)
    if wrap:
        dispatcher.listen(app.command("/medialink"), listener)
    else:
        app.command("/medialink")(listener)
    return result


async def test_the_answer_goes_back_at_ack_while_the_work_goes_on(probe: MakeProbe) -> None:
    work_may_finish = asyncio.Event()
    finished = asyncio.Event()

    async def listener(ack: AsyncAck) -> None:
        await ack(text="on it")
        await work_may_finish.wait()
        finished.set()

    with FakeSlack() as slack:
        app = probe(slack, listener)
        response = await asyncio.wait_for(app.dispatch(slack), 5)
        assert response.status == 200
        assert "on it" in response.body
        assert not finished.is_set()  # Bolt answered while the listener was still at work
        work_may_finish.set()
        await asyncio.wait_for(finished.wait(), 5)
    assert app.errors == []


async def test_a_failure_after_the_ack_reaches_the_error_handler(probe: MakeProbe) -> None:
    async def listener(ack: AsyncAck) -> None:
        await ack()
        await asyncio.sleep(0.01)
        raise RuntimeError("after the ack")

    with FakeSlack() as slack:
        app = probe(slack, listener)
        response = await asyncio.wait_for(app.dispatch(slack), 5)
        assert response.status == 200  # Slack got the ack, not the failure
        assert await app.dispatcher.finish(5) == 0
    assert [str(error) for error in app.errors] == ["after the ack"]


async def test_a_failure_before_the_ack_is_a_500_and_reaches_the_error_handler(
    probe: MakeProbe,
) -> None:
    async def listener(ack: AsyncAck) -> None:
        raise RuntimeError("before the ack")

    with FakeSlack() as slack:
        app = probe(slack, listener)
        response = await asyncio.wait_for(app.dispatch(slack), 5)
    assert response.status == 500
    assert [str(error) for error in app.errors] == ["before the ack"]


async def test_an_ack_from_outside_the_wrapper_does_not_wait_for_itself(probe: MakeProbe) -> None:
    # Bolt's own auto-ack, or a listener someone forgot to wrap: its ack() runs inside
    # the dispatch whose return sends the answer, so waiting there would never end.
    async def unwrapped(ack: AsyncAck) -> None:
        await ack(text="unwrapped")

    with FakeSlack() as slack:
        app = probe(slack, unwrapped, wrap=False)
        response = await asyncio.wait_for(app.dispatch(slack), 5)
    assert response.status == 200
    assert "unwrapped" in response.body


async def test_stopping_waits_for_work_in_hand_and_cuts_off_what_overruns(probe: MakeProbe) -> None:
    release = asyncio.Event()
    done: list[str] = []

    async def listener(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        await release.wait()
        done.append(command["text"])

    async def stuck(ack: AsyncAck) -> None:
        await ack()
        await asyncio.Event().wait()  # never ends

    with FakeSlack() as slack:
        quick = probe(slack, listener)
        await quick.dispatch(slack)
        asyncio.get_running_loop().call_later(0.05, release.set)
        assert await quick.dispatcher.finish(5) == 0
        assert done == ["go"]

        hung = probe(slack, stuck)
        await hung.dispatch(slack)
        assert await hung.dispatcher.finish(0.05) == 1
