"""Packing files into messages: every file shown once, every message within the limits."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.button_state import MAX_TOKEN_CHARS, LinkState, decode_state
from bot.slack.options import is_download_name
from bot.slack.render import (
    ACTION_REGENERATE,
    EXPIRY_CHOICES,
    render_dm_copy,
    render_link_reply,
    render_shared_reply,
)
from bot.slack.render.links import MAX_LINKS_PER_FILE
from bot.wix.errors import (
    InternalServerError,
    InvalidAssetKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    WixConnectionError,
    WixError,
)
from bot.wix.links import AssetLink, FileFacts, FileLinks, LinkOptions
from bot.wix.refs import MediaRef, MediaType, RejectedToken
from tests.slack.render.conftest import (
    USER,
    WEEK,
    assert_within_limits,
    element,
    elements,
    file_sections,
    ok,
    reply,
    texts,
)


def test_fifty_files_arrive_complete_across_several_messages() -> None:
    results = [ok(n, keys=("src", "720p.mp4"), renditions=("720p.mp4",)) for n in range(50)]
    messages = reply(results, rejected=[RejectedToken("x", "why")])
    assert len(messages) > 1
    seen: list[str] = []
    for number, message in enumerate(messages, start=1):
        assert_within_limits(message)
        assert f"part {number} of {len(messages)}" in message["blocks"][0]["elements"][0]["text"]
        state = decode_state(
            element([message], ACTION_REGENERATE)["value"], max_expiry=WEEK, user_id=USER
        )
        names = [s["text"]["text"].split("*")[1] for s in file_sections(message)]
        assert names == [f"Photo {int(f.file_id[:6], 16)}.jpg" for f in state.files]
        seen.extend(file.file_id for file in state.files)
    assert seen == [result.file_id for result in results]
    assert texts(messages[:1]).count("Skipped") == 1
    assert "Skipped" not in texts(messages[1:])


def test_a_file_too_big_to_remember_keeps_its_links_and_loses_the_buttons() -> None:
    # Keys that do not compress: 60 of them cannot fit one 2000-character button value.
    long_keys = tuple(hashlib.sha512(bytes([n])).hexdigest()[:100] for n in range(60))
    result = ok(1, keys=("src",))
    state = LinkState.for_request(
        USER, [result.ref], LinkOptions(expires_in=timedelta(hours=1), asset_keys=long_keys[:20])
    )
    state = state.with_file_keys(0, long_keys)
    messages = render_link_reply([result], state)
    for message in messages:
        assert_within_limits(message)
    assert any(e["action_id"].startswith("medialink_link_") for e in elements(messages))
    assert not any(e["action_id"] == ACTION_REGENERATE for e in elements(messages))
    assert "buttons are off" in texts(messages)


# --- property: Block Kit limits hold for any input ---------------------------------------------

_names = st.text(min_size=1, max_size=400)
_keys = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
    min_size=1,
    max_size=100,
)
_errors = st.sampled_from(
    [
        NotFoundError("gone", status=404, request_id="r" * 300),
        PermissionDeniedError("no", status=403),
        RateLimitError("slow", status=429),
        InternalServerError("", status=500),
        WixConnectionError("down"),
        InvalidAssetKeyError("bad", asset_keys=("x",)),
        WixError("other"),
    ]
)


@st.composite
def file_links(draw: st.DrawFn, number: int) -> FileLinks:
    media_type = draw(st.sampled_from(list(MediaType)))
    file_ref = MediaRef(
        file_id=f"{number:06x}_{number:032x}" + draw(st.sampled_from(["~mv2.jpg", ".pdf", ""])),
        media_type=media_type,
        filename=draw(st.none() | _names),
        source="pasted",
    )
    facts = draw(
        st.none()
        | st.builds(
            FileFacts,
            display_name=st.none() | _names,
            media_type=st.just(media_type),
            size_bytes=st.none() | st.integers(0, 10**13),
            private=st.booleans(),
            renditions=st.lists(_keys, max_size=60).map(tuple),
        )
    )
    if draw(st.integers(0, 4)) == 0:
        return FileLinks(ref=file_ref, facts=facts, error=draw(_errors))
    keys = draw(st.lists(_keys, min_size=1, max_size=40, unique=True))
    urls = st.integers(10, 3100).map(lambda n: "https://download-files.wixmp.com/" + "u" * n)
    return FileLinks(
        ref=file_ref,
        facts=facts,
        links=tuple(AssetLink(key, draw(urls)) for key in keys),
        expires_at=draw(st.datetimes(datetime(2000, 1, 1), timezones=st.just(UTC))),
        invalid_asset_keys=tuple(draw(st.lists(_keys, max_size=120))),
    )


@st.composite
def replies(draw: st.DrawFn) -> tuple[list[FileLinks], LinkState, list[RejectedToken], bool]:
    count = draw(st.integers(0, 50))
    results = [draw(file_links(number)) for number in range(count)]
    options = LinkOptions(
        asset_keys=tuple(draw(st.lists(_keys, max_size=20, unique=True))),
        download_file_name=draw(
            st.none() | st.text(min_size=1, max_size=100).filter(is_download_name)
        ),
        redirect_url=draw(st.none() | st.just("https://example.com/" + "r" * 900)),
        inline=draw(st.booleans()),
    )
    state = LinkState.for_request(
        draw(st.from_regex(r"U[A-Z0-9]{8,20}", fullmatch=True)),
        [result.ref for result in results],
        replace(options, expires_in=timedelta(minutes=draw(st.integers(1, 10080)))),
    )
    rejected = draw(
        st.lists(
            st.builds(RejectedToken, st.text(max_size=300), st.text(min_size=1, max_size=400)),
            max_size=300,
        )
    )
    return results, state, rejected, draw(st.booleans())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(replies())
def test_any_reply_fits_block_kit_and_keeps_every_file(
    reply_input: tuple[list[FileLinks], LinkState, list[RejectedToken], bool],
) -> None:
    results, state, rejected, share = reply_input
    messages = render_link_reply(
        results, state, rejected=rejected, expiry_choices=EXPIRY_CHOICES, share_enabled=share
    )
    assert messages
    for message in messages:
        assert_within_limits(message)
        for e in elements([message]):
            value = e.get("value")
            if value is not None and value != "dismiss":
                assert len(value) <= MAX_TOKEN_CHARS
                decoded = decode_state(value, max_expiry=WEEK, user_id=state.user_id)
                shown = [s for s in file_sections(message)]
                assert len(decoded.files) == len(shown)
    # Every file is shown exactly once, in order, across the messages.
    shown_count = sum(len(file_sections(message)) for message in messages)
    assert shown_count == len(results)
    # Every usable link is a button (unless beyond the per-file cap).
    urls = {e["url"] for e in elements(messages) if "url" in e}
    for result in results:
        if result.ok:
            for link in result.links[:MAX_LINKS_PER_FILE]:
                if len(link.url) <= 3000:
                    assert link.url in urls
    for copy in (render_shared_reply, render_dm_copy):
        for message in (
            copy(results, shared_by=state.user_id) if copy is render_shared_reply else copy(results)  # type: ignore[call-arg]
        ):
            assert_within_limits(message)
