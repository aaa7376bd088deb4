"""Rendering replies: the layout people see, and Block Kit's limits for any input."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.slack.blocks import (
    ACTION_DISMISS,
    ACTION_DM,
    ACTION_REGENERATE,
    ACTION_SHARE,
    EXPIRY_CHOICES,
    MAX_LINKS_PER_FILE,
    MAX_MESSAGE_TEXT,
    build_link_modal,
    human_size,
    render_dm_copy,
    render_link_reply,
    render_notice,
    render_shared_reply,
    slack_date,
)
from bot.slack.button_state import MAX_TOKEN_CHARS, LinkState, decode_state, file_state
from bot.slack.messages import (
    KEY_LACKS_PERMISSION,
    KEY_NOT_ACCEPTED,
    NOT_FOUND,
    SOMETHING_WENT_WRONG,
    USAGE,
    WIX_BUSY,
    describe_error,
    option_problems,
)
from bot.slack.options import is_download_name
from bot.wix.errors import (
    AuthenticationError,
    InternalServerError,
    InvalidAssetKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    WixAPIError,
    WixConnectionError,
    WixError,
)
from bot.wix.links import AssetLink, FileFacts, FileLinks, LinkOptions, LinkOptionsError
from bot.wix.refs import MediaRef, MediaType, RejectedToken
from tests.fakes.slack import message_errors, modal_errors

USER = "U0ALICE01"
WEEK = timedelta(days=7)
EXPIRES = datetime(2030, 5, 17, 14, 30, tzinfo=UTC)
Json = dict[str, Any]


def ref(number: int, media_type: MediaType = MediaType.IMAGE) -> MediaRef:
    file_id = f"{number:06x}_{number:032x}~mv2.jpg"
    return MediaRef(file_id, media_type, f"file-{number}.jpg", file_id)


def ok(
    number: int,
    *,
    keys: Sequence[str] = ("src",),
    renditions: Sequence[str] = (),
    name: str | None = None,
    private: bool = False,
    size: int | None = 2_500_000,
    invalid: Sequence[str] = (),
) -> FileLinks:
    return FileLinks(
        ref=ref(number),
        facts=FileFacts(
            display_name=name or f"Photo {number}.jpg",
            media_type=MediaType.IMAGE,
            size_bytes=size,
            private=private,
            renditions=tuple(renditions),
        ),
        links=tuple(
            AssetLink(key, f"https://download-files.wixmp.com/media/{number}/{key}?token=t{number}")
            for key in keys
        ),
        expires_at=EXPIRES,
        invalid_asset_keys=tuple(invalid),
    )


def failed(number: int, error: WixError) -> FileLinks:
    return FileLinks(ref=ref(number), error=error)


def state_for(results: Sequence[FileLinks], **options: Any) -> LinkState:
    return LinkState.for_request(
        USER, [result.ref for result in results], LinkOptions(**options), timedelta(hours=1)
    )


def reply(results: Sequence[FileLinks], **kwargs: Any) -> list[Json]:
    return render_link_reply(results, state_for(results), **kwargs)


def blocks_of(messages: Sequence[Json]) -> Iterator[Json]:
    for message in messages:
        yield from message["blocks"]


def elements(messages: Sequence[Json]) -> Iterator[Json]:
    """Every interactive element (buttons, in rows or as accessories)."""
    for block in blocks_of(messages):
        found = [*block.get("elements", []), block.get("accessory") or {}]
        yield from (e for e in found if "action_id" in e)


def element(messages: Sequence[Json], action_id: str) -> Json:
    return next(e for e in elements(messages) if e.get("action_id") == action_id)


def texts(messages: Sequence[Json]) -> str:
    found: list[str] = []
    for block in blocks_of(messages):
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn")
    return "\n".join(found)


def file_sections(message: Json) -> list[Json]:
    return [b for b in message["blocks"] if re.fullmatch(r"file_\d+", b.get("block_id", ""))]


def assert_within_limits(message: Json) -> None:
    # The fake Slack's check, the same one that refuses posts in the end-to-end tests.
    assert message_errors(message) is None
    assert 1 <= len(message["text"]) <= MAX_MESSAGE_TEXT
    assert message["unfurl_links"] is False
    assert message["unfurl_media"] is False
    for block in message["blocks"]:
        # slack_sdk's own models as a second opinion on every element's limits.
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()


# --- one file ---------------------------------------------------------------------------------


def test_a_file_section_names_type_size_privacy_and_local_expiry() -> None:
    [message] = reply([ok(1, name="Holiday *photo* <1>.jpg", private=True)])
    section = file_sections(message)[0]["text"]["text"]
    assert section.startswith("*Holiday *photo* &lt;1&gt;.jpg*")
    assert "Image" in section
    assert "2.4 MB" in section
    assert "🔒 private" in section
    stamp = int(EXPIRES.timestamp())
    assert f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|2030-05-17 14:30 UTC>" in section
    assert_within_limits(message)


def test_public_files_have_no_private_marker() -> None:
    assert "private" not in texts(reply([ok(1, private=False)]))


def test_one_link_button_per_asset_with_its_url() -> None:
    messages = reply([ok(1, keys=("src", "720p.mp4")), ok(2)])
    links = [e for e in elements(messages) if e["action_id"].startswith("medialink_link_")]
    assert [e["action_id"] for e in links] == [
        "medialink_link_0",
        "medialink_link_1",
        "medialink_link_2",
    ]
    assert [e["text"]["text"] for e in links] == ["Original", "720p.mp4", "Original"]
    assert links[1]["url"] == "https://download-files.wixmp.com/media/1/720p.mp4?token=t1"
    assert all("value" not in e for e in links)


def test_rendition_choices_carry_the_state_with_that_files_keys_changed() -> None:
    results = [ok(1), ok(2, renditions=("720p.mp4", "1080p.mp4"))]
    [message] = reply(results)
    choices = [e for e in elements([message]) if e["action_id"].startswith("medialink_rendition_")]
    assert [e["action_id"] for e in choices] == [
        "medialink_rendition_1_0",
        "medialink_rendition_1_1",
        "medialink_rendition_1_2",
        "medialink_rendition_1_3",
    ]
    assert [e["text"]["text"] for e in choices] == ["Original", "720p.mp4", "1080p.mp4", "All"]
    assert choices[0].get("style") == "primary"  # what the file shows now
    chosen = decode_state(choices[1]["value"], max_expiry=WEEK, user_id=USER)
    assert chosen.files[0].asset_keys is None
    assert chosen.files[1].asset_keys == ("720p.mp4",)
    everything = decode_state(choices[3]["value"], max_expiry=WEEK, user_id=USER)
    assert everything.files[1].asset_keys == ("src", "720p.mp4", "1080p.mp4")


def test_files_without_renditions_have_no_rendition_choice() -> None:
    messages = reply([ok(1)])
    assert not any(e["action_id"].startswith("medialink_rendition_") for e in elements(messages))


# --- message-level controls -------------------------------------------------------------------


def test_expiry_choices_mark_the_current_one_and_carry_the_new_expiry() -> None:
    messages = reply([ok(1)], expiry_choices=(15, 60, 1440))
    buttons = [e for e in elements(messages) if e["action_id"].startswith("medialink_expiry_")]
    assert [(e["action_id"], e["text"]["text"]) for e in buttons] == [
        ("medialink_expiry_15", "15 min"),
        ("medialink_expiry_60", "1 hour"),
        ("medialink_expiry_1440", "1 day"),
    ]
    assert [e.get("style") for e in buttons] == [None, "primary", None]
    assert decode_state(buttons[2]["value"], max_expiry=WEEK).expires_minutes == 1440


def test_controls_regenerate_share_dm_and_dismiss() -> None:
    messages = reply([ok(1)])
    regenerate = element(messages, ACTION_REGENERATE)
    assert regenerate["text"]["text"] == "Regenerate"
    state = decode_state(regenerate["value"], max_expiry=WEEK, user_id=USER)
    assert [file.file_id for file in state.files] == [ref(1).file_id]
    share = element(messages, ACTION_SHARE)
    assert share["text"]["text"] == "Share in channel"
    assert share["confirm"]["confirm"]["text"] == "Share"
    assert element(messages, ACTION_DM)["text"]["text"] == "Send to my DMs"
    assert element(messages, ACTION_DISMISS)["text"]["text"] == "Dismiss"


def test_share_is_absent_when_switched_off() -> None:
    messages = reply([ok(1)], share_enabled=False)
    assert not any(e["action_id"] == ACTION_SHARE for e in elements(messages))


# --- errors in plain words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "words", "retry"),
    [
        (NotFoundError("gone", status=404), NOT_FOUND, False),
        (PermissionDeniedError("no", status=403), KEY_LACKS_PERMISSION, False),
        (AuthenticationError("no", status=401), KEY_NOT_ACCEPTED, False),
        (RateLimitError("slow down", status=429), WIX_BUSY, True),
        (InternalServerError("", status=503), WIX_BUSY, True),
        (WixConnectionError("refused"), WIX_BUSY, True),
    ],
)
def test_file_errors_in_plain_words(error: WixError, words: str, retry: bool) -> None:
    [message] = reply([failed(1, error), ok(2)])
    section = file_sections(message)[0]
    assert words in section["text"]["text"]
    assert "Traceback" not in texts([message])
    accessory = section.get("accessory")
    if retry:
        assert accessory is not None
        assert accessory["action_id"] == ACTION_REGENERATE
        assert accessory["text"]["text"] == "Try again"
        assert decode_state(accessory["value"], max_expiry=WEEK).files == (
            file_state(ref(1)),
            file_state(ref(2)),
        )
    else:
        assert accessory is None
    assert_within_limits(message)


def test_the_permission_words_say_the_admin_must_fix_the_key() -> None:
    assert "Manage Media Manager" in KEY_LACKS_PERMISSION
    assert "admin" in KEY_LACKS_PERMISSION


def test_an_unknown_rendition_falls_back_to_the_original_with_a_note() -> None:
    text = texts(reply([ok(1, keys=("src",), invalid=("720p.mp4",))]))
    assert "`720p.mp4`" in text
    assert "original" in text


def test_no_link_at_all_for_an_unknown_rendition() -> None:
    error = InvalidAssetKeyError("bad key", asset_keys=("9k.mp4",))
    text = texts(reply([failed(1, error)]))
    assert "no such rendition" in text


def test_rejected_input_is_listed_with_reasons() -> None:
    rejected = [RejectedToken(f"https://example.com/{n}", "not a Wix media URL") for n in range(40)]
    [message] = reply([ok(1)], rejected=rejected)
    text = texts([message])
    assert "Skipped 40 items" in text
    assert "https://example.com/0" in text
    assert "not a Wix media URL" in text
    assert "more." in text
    assert_within_limits(message)


# --- splitting --------------------------------------------------------------------------------


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


def test_many_links_for_one_file_wrap_into_rows_of_25() -> None:
    keys = ["src", *(f"k{n}.mp4" for n in range(59))]
    [message] = reply([ok(1, keys=keys)])
    rows = [b for b in message["blocks"] if b.get("block_id", "").startswith("file_0_links")]
    assert [len(row["elements"]) for row in rows] == [25, 25, 10]
    assert_within_limits(message)


def test_more_links_than_shown_are_counted() -> None:
    keys = ["src", *(f"k{n}" for n in range(MAX_LINKS_PER_FILE + 4))]
    messages = reply([ok(1, keys=keys)])
    assert "5 more links are not shown" in texts(messages)


def test_a_file_too_big_to_remember_keeps_its_links_and_loses_the_buttons() -> None:
    # Keys that do not compress: 60 of them cannot fit one 2000-character button value.
    long_keys = tuple(hashlib.sha512(bytes([n])).hexdigest()[:100] for n in range(60))
    result = ok(1, keys=("src",))
    state = LinkState.for_request(
        USER, [result.ref], LinkOptions(asset_keys=long_keys[:20]), timedelta(hours=1)
    )
    state = state.with_file_keys(0, long_keys)
    messages = render_link_reply([result], state)
    for message in messages:
        assert_within_limits(message)
    assert any(e["action_id"].startswith("medialink_link_") for e in elements(messages))
    assert not any(e["action_id"] == ACTION_REGENERATE for e in elements(messages))
    assert "buttons are off" in texts(messages)


def test_urls_longer_than_slack_allows_are_not_sent_as_buttons() -> None:
    result = FileLinks(
        ref=ref(1), links=(AssetLink("src", "https://x/" + "a" * 3000),), expires_at=EXPIRES
    )
    messages = reply([result])
    assert not any(e["action_id"].startswith("medialink_link_") for e in elements(messages))
    assert "too long for Slack" in texts(messages)
    assert_within_limits(messages[0])


# --- shared and DM copies, notices, the modal -------------------------------------------------


def test_shared_reply_says_who_shared_and_has_links_only() -> None:
    messages = render_shared_reply([ok(1), ok(2, renditions=("720p.mp4",))], shared_by=USER)
    assert f"<@{USER}>" in texts(messages)
    ids = [e["action_id"] for e in elements(messages)]
    assert ids == ["medialink_link_0", "medialink_link_1"]
    for message in messages:
        assert_within_limits(message)


def test_dm_copy_has_links_only() -> None:
    messages = render_dm_copy([ok(1)])
    assert [e["action_id"] for e in elements(messages)] == ["medialink_link_0"]
    assert_within_limits(messages[0])


def test_a_long_notice_is_split_into_sections() -> None:
    message = render_notice(USAGE + "\n" + "word " * 2000)
    assert len(message["blocks"]) > 1
    assert_within_limits(message)
    assert message["text"].startswith("MediaLink makes")


def test_a_notice_with_many_rejected_items_stays_within_limits() -> None:
    rejected = [RejectedToken("<&>" * 100, "because " * 50) for _ in range(300)]
    message = render_notice(USAGE, rejected=rejected)
    assert_within_limits(message)
    assert "Skipped 300 items" in texts([message])


def test_option_problems_and_service_refusals_read_as_sentences() -> None:
    assert describe_error(LinkOptionsError("links can last at most 7 days here")) == (
        "Links can last at most 7 days here."
    )
    assert option_problems(["expires: 'soon' is not a duration"]).startswith(
        "I could not use that command:\n• Expires: 'soon' is not a duration."
    )
    assert "request ID `abc`" in describe_error(WixAPIError("teapot", status=418, request_id="abc"))
    assert describe_error(ValueError("internal detail")) == SOMETHING_WENT_WRONG


def test_the_modal_has_the_agreed_ids_and_capped_expiry_choices() -> None:
    view = build_link_modal(default_minutes=120, max_minutes=1440)
    assert modal_errors(view) == []
    assert view["callback_id"] == "medialink_modal"
    assert view["title"]["text"] == "MediaLink"
    assert view["submit"]["text"] == "Get links"
    ids = [(b["block_id"], b["element"]["action_id"]) for b in view["blocks"]]
    assert ids == [
        ("urls", "urls_input"),
        ("expiry", "expiry_select"),
        ("assets", "assets_input"),
        ("conversation", "conversation_select"),
    ]
    expiry = view["blocks"][1]["element"]
    assert [o["value"] for o in expiry["options"]] == ["15", "60", "120", "1440"]
    assert expiry["initial_option"]["value"] == "120"
    conversation = view["blocks"][3]["element"]
    assert conversation["response_url_enabled"] is True
    assert conversation["default_to_current_conversation"] is True
    assert view["blocks"][2]["optional"] is True
    assert view["blocks"][0]["element"]["multiline"] is True


def test_dates_and_sizes_read_well() -> None:
    naive = datetime(2030, 1, 2, 3, 4)  # a naive time is read as UTC
    assert slack_date(naive).endswith("|2030-01-02 03:04 UTC>")
    assert [human_size(n) for n in (None, 0, 1023, 1024, 5_000_000, 3 * 1024**4)] == [
        None,
        "0 B",
        "1023 B",
        "1.0 KB",
        "4.8 MB",
        "3.0 TB",
    ]
    assert EXPIRY_CHOICES == (15, 60, 1440, 10080)


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
        options,
        timedelta(minutes=draw(st.integers(1, 10080))),
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
