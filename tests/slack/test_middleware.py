import asyncio

import aiohttp

from bot.slack.middleware import AckThenYield, SessionRespond
from tests.fakes.slack import FakeSlack


async def test_ack_returns_only_once_the_server_holds_the_ack() -> None:
    sent = asyncio.Event()
    ack = AckThenYield(sent)
    call = asyncio.create_task(ack(text="working on it"))
    await asyncio.sleep(0.05)
    # The answer is ready for Bolt to pick up, but the listener's work is held back.
    assert ack.response is not None
    assert ack.response.status == 200
    assert not call.done()
    sent.set()
    response = await asyncio.wait_for(call, 1)
    assert response is ack.response


async def test_ack_does_not_wait_for_an_answer_that_already_went() -> None:
    sent = asyncio.Event()
    sent.set()
    await asyncio.wait_for(AckThenYield(sent)(), 1)


async def test_respond_posts_through_the_shared_session_and_leaves_it_open() -> None:
    with FakeSlack() as slack:
        first = slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
        second = slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
        connector = aiohttp.TCPConnector(limit=1)  # one connection: the posts must share it
        async with aiohttp.ClientSession(connector=connector) as session:
            for url in (first, second):
                answer = await SessionRespond(response_url=url, session=session)(
                    "links", response_type="ephemeral", unfurl_links=False, unfurl_media=False
                )
                assert answer.status_code == 200
            assert not session.closed
        [one], [two] = slack.posts(first), slack.posts(second)
        for post in (one, two):
            assert post.body["text"] == "links"
            assert post.body["unfurl_links"] is False
