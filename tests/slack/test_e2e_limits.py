"""Block Kit limits hold for any input: big requests arrive complete, split across messages.

The fake Slack refuses over-limit messages the way Slack does (``400 invalid_blocks``
at a response_url), so every test here fails if the app ever sends one.
"""

from __future__ import annotations

from tests.fakes.slack import (
    MAX_MESSAGE_BLOCKS,
    RESPONSE_URL_USES,
    FakeSlack,
    Message,
    block_kit_errors,
)
from tests.fakes.wix import FakeWix, Kind
from tests.slack.conftest import (
    MediaLink,
    Sent,
    generate_bodies,
    issued_urls,
    link_buttons,
    wix_url,
)

KINDS: tuple[Kind, ...] = ("image", "video", "document", "audio", "vector")


def add_files(wix: FakeWix, count: int) -> dict[str, str]:
    """``count`` files of every kind, each with a name found nowhere else: id → name."""
    names = {}
    for number in range(count):
        kind = KINDS[number % len(KINDS)]
        name = f"file-{number:03d}-{kind}"
        names[wix.add_file(kind=kind, display_name=name)] = name
    return names


def messages_of(slack: FakeSlack, sent: Sent) -> list[Message]:
    assert sent.response_url is not None
    return [
        slack.message(post.message_id)
        for post in slack.posts(sent.response_url)
        if post.message_id is not None
    ]


def names_in(message: Message, names: dict[str, str]) -> set[str]:
    text = message.all_text()
    return {name for name in names.values() if f"*{name}*" in text}


def assert_within_limits(slack: FakeSlack, sent: Sent) -> list[Message]:
    assert sent.response_url is not None
    posts = slack.posts(sent.response_url)
    refused = [(post.status, post.answer) for post in posts if not post.accepted]
    assert refused == [], "Slack would have refused part of the reply"
    messages = messages_of(slack, sent)
    for message in messages:
        assert len(message.blocks) <= MAX_MESSAGE_BLOCKS
        assert block_kit_errors(message.blocks) == []
    return messages


async def test_fifty_files_arrive_complete_across_messages(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    names = add_files(fake_wix, 50)
    sent = await medialink.command(" ".join(wix_url(file_id) for file_id in names))
    assert sent.response.status_code == 200
    assert sent.response_url is not None

    def complete() -> bool:
        seen = set().union(*(names_in(m, names) for m in messages_of(fake_slack, sent)))
        return seen == set(names.values())

    await fake_slack.wait_until(complete, within=20, what="all 50 files in the reply")
    await medialink.settle()
    messages = assert_within_limits(fake_slack, sent)

    assert 2 <= len(messages) <= RESPONSE_URL_USES  # split, yet within the response_url budget
    per_message = [names_in(message, names) for message in messages]
    assert sum(len(found) for found in per_message) == 50  # each file in exactly one message
    assert all(found for found in per_message)
    for message in messages:
        assert message.body.get("unfurl_links") is False
        assert message.body.get("unfurl_media") is False
        assert set(message.button_urls()) <= issued_urls(fake_wix)
        assert len(link_buttons(message)) >= len(names_in(message, names))
        message.element("medialink_regenerate")  # every part has its own controls

    # Each part's buttons remember that part's files only.
    last = messages[-1]
    ids_in_last = {file_id for file_id, name in names.items() if name in names_in(last, names)}
    calls_before = len(generate_bodies(fake_wix))
    click = await medialink.click(last, "medialink_regenerate")
    updated = await medialink.reply(click)
    assert updated.id == last.id
    assert {body["fileId"] for body in generate_bodies(fake_wix)[calls_before:]} == ids_in_last
    assert names_in(updated, names) == names_in(last, names)
    assert all(fake_slack.message(m.id).history == [] for m in messages[:-1])


async def test_references_over_the_limit_are_listed_not_dropped_silently(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    limit = medialink.settings.medialink_max_refs
    names = add_files(fake_wix, limit + 3)
    sent = await medialink.command(" ".join(wix_url(file_id) for file_id in names))
    assert sent.response.status_code == 200
    await medialink.wait_posts(sent)
    await medialink.settle()
    messages = assert_within_limits(fake_slack, sent)
    asked = {body["fileId"] for body in generate_bodies(fake_wix)}
    assert len(asked) == limit
    left_out = set(names) - asked
    assert len(left_out) == 3
    everything = "\n".join(message.all_text() for message in messages)
    assert str(limit) in everything
    assert sum(file_id in everything for file_id in left_out) >= 1


async def test_many_renditions_wrap_into_rows_of_25(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    renditions = [f"{height}p.mp4" for height in range(100, 3100, 100)]  # 30 renditions
    video = fake_wix.add_file(kind="video", display_name="big.mp4", renditions=renditions)
    sent = await medialink.command(f"{wix_url(video)} assets={','.join(renditions[:20])}")
    assert sent.response.status_code == 200
    await medialink.wait_posts(sent)
    await medialink.settle()
    [message] = assert_within_limits(fake_slack, sent)
    assert sorted(button["text"]["text"] for button in link_buttons(message)) == sorted(
        renditions[:20]
    )
    choices = [
        str(element["text"]["text"])
        for element in message.elements()
        if str(element.get("action_id", "")).startswith("medialink_rendition_")
    ]
    assert set(renditions) <= set(choices)


async def test_long_names_and_much_rejected_input_stay_within_limits(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    long_name = "quarterly report " * 15 + ".pdf"  # 250 characters
    document = fake_wix.add_file(kind="document", display_name=long_name)
    junk = " ".join(f"https://example.com/not-wix-{number}.jpg" for number in range(150))
    sent = await medialink.command(f"{junk} {wix_url(document)}")
    assert sent.response.status_code == 200
    await medialink.wait_posts(sent)
    await medialink.settle()
    messages = assert_within_limits(fake_slack, sent)
    assert sum(len(link_buttons(message)) for message in messages) == 1
    assert "quarterly report" in messages[0].all_text()
