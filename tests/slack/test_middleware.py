import asyncio

from bot.slack.middleware import AckThenYield


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
