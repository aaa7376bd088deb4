"""The button state: compact, versioned, and re-validated on every click."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.button_state import (
    MAX_TOKEN_CHARS,
    PREFIX,
    STALE_BUTTONS,
    FileState,
    LinkState,
    NotYourButtonsError,
    StateError,
    decode_state,
    encode_state,
    file_state,
    rendition_choices,
)
from bot.wix.links import LinkOptions
from bot.wix.refs import MediaType, RejectedToken, parse_media_ref, parse_media_refs

WEEK = timedelta(days=7)
IMAGE_ID = "2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"
VIDEO_ID = "4acbb8_5646ee01a5524905af4f2e7c567cbbce"
DOC_ID = "2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf"


def a_state(**changes: Any) -> LinkState:
    values: dict[str, Any] = {
        "user_id": "U0ALICE01",
        "files": (
            FileState(IMAGE_ID, MediaType.IMAGE, "leon.jpg"),
            FileState(VIDEO_ID, MediaType.VIDEO, None, ("src", "720p.mp4")),
            FileState(DOC_ID, MediaType.DOCUMENT),
        ),
        "expires_minutes": 60,
        "asset_keys": (),
        "download_file_name": None,
        "inline": False,
        "redirect_url": None,
    }
    values.update(changes)
    return LinkState(**values)


def pack(data: object) -> str:
    raw = json.dumps(data).encode()
    return PREFIX + base64.urlsafe_b64encode(zlib.compress(raw)).rstrip(b"=").decode()


def test_a_state_comes_back_unchanged() -> None:
    state = a_state(
        download_file_name="contract.pdf",
        inline=True,
        redirect_url="https://example.com/gone",
        asset_keys=("src", "1080p.mp4"),
    )
    token = encode_state(state)
    assert token.startswith(PREFIX)
    assert decode_state(token, max_expiry=WEEK, user_id="U0ALICE01") == state


def test_tokens_are_url_safe_and_compact() -> None:
    token = encode_state(a_state())
    assert set(token[len(PREFIX) :]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert len(token) < 300


def test_the_state_of_a_request_keeps_its_files_and_options() -> None:
    refs = parse_media_refs(
        f"https://static.wixstatic.com/media/{IMAGE_ID}/v1/fill/w_1,h_1/{'n' * 90}.jpg {DOC_ID}"
    ).refs
    options = LinkOptions(
        expires_in=timedelta(hours=2), asset_keys=("src",), download_file_name="x.pdf", inline=True
    )
    state = LinkState.for_request("U1", refs, options)
    assert [file.file_id for file in state.files] == [IMAGE_ID, DOC_ID]
    assert state.expires_minutes == 120
    assert state.asset_keys == ("src",)
    assert state.download_file_name == "x.pdf"
    assert state.inline
    assert state.files[0].filename is not None
    assert len(state.files[0].filename) <= 60  # only a fallback label: kept short


def test_only_the_person_it_was_made_for_may_click() -> None:
    token = encode_state(a_state())
    with pytest.raises(NotYourButtonsError) as refused:
        decode_state(token, max_expiry=WEEK, user_id="U0BOB0002")
    assert "<@U0ALICE01>" in str(refused.value)


def test_an_expiry_over_todays_cap_is_refused_in_words() -> None:
    token = encode_state(a_state(expires_minutes=10080))
    with pytest.raises(StateError) as refused:
        decode_state(token, max_expiry=timedelta(days=1), user_id="U0ALICE01")
    assert "1 day" in str(refused.value)
    assert "7 days" in str(refused.value)


def test_more_files_than_allowed_today_are_refused() -> None:
    token = encode_state(a_state())
    with pytest.raises(StateError):
        decode_state(token, max_expiry=WEEK, max_files=2)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "1.",
        "1.!!!!",
        "2." + encode_state(a_state())[2:],
        PREFIX + base64.urlsafe_b64encode(b"not zlib").decode(),
        "1." + "A" * (MAX_TOKEN_CHARS),
    ],
)
def test_garbage_is_a_stale_button(token: str) -> None:
    with pytest.raises(StateError) as refused:
        decode_state(token, max_expiry=WEEK)
    assert str(refused.value) == STALE_BUTTONS


def base_data() -> dict[str, Any]:
    return {"v": 1, "u": "U0ALICE01", "e": 60, "f": [[IMAGE_ID, "i"]]}


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"u": "alice"},
        {"u": 7},
        {"e": 0},
        {"e": "60"},
        {"e": True},
        {"f": []},
        {"f": [[IMAGE_ID, "i"], [IMAGE_ID, "i"]]},
        {"f": [["https://evil.example.com/x", "i"]]},
        {"f": [["static.wixstatic.com/media/x.jpg", "i"]]},
        {"f": [["../../etc/passwd", "i"]]},
        {"f": [["a b", "i"]]},
        {"f": [["x" * 1001, "i"]]},
        {"f": [[IMAGE_ID, "?"]]},
        {"f": [[IMAGE_ID]]},
        {"f": [[IMAGE_ID, "i", "n" * 61]]},
        {"f": [[IMAGE_ID, "i", "", ["720p mp4"]]]},
        {"f": [[IMAGE_ID, "i", "", "src"]]},
        {"a": ["src", "src"]},
        {"a": ["k"] * 101},
        {"n": ""},
        {"n": "a/b.pdf"},
        {"n": "n" * 101},
        {"r": "http://example.com"},
        {"r": "https://example.com/" + "x" * 1000},
        {"i": 2},
    ],
)
def test_every_field_is_revalidated(change: dict[str, Any]) -> None:
    data = base_data() | change
    with pytest.raises(StateError):
        decode_state(pack(data), max_expiry=WEEK, user_id="U0ALICE01")


# Each admitted by the file-ID character pattern, refused only by the reference parser.
PARSER_REFUSED_IDS = [
    "4acbb8_5646ee01a5524905af4f2e7c567cbbcef001.jpg",  # a video's poster frame
    "4acbb8_5646ee01a5524905af4f2e7c567cbbcef999.jpeg",
    "4acbb8_5646ee01a5524905af4f2e7c567cbbcef000.png",
    "wix:junk",
    "WIX:junk",
    "wix:image:",
    "wix:video:x",
    "wix:document:",
]


@pytest.mark.parametrize("file_id", PARSER_REFUSED_IDS)
def test_file_ids_the_parser_refuses_are_refused_on_click(file_id: str) -> None:
    """The character pattern alone lets these through; the parser's re-check must not."""
    assert isinstance(parse_media_ref(file_id), RejectedToken)
    data = base_data() | {"f": [[file_id, "i"]]}
    with pytest.raises(StateError) as refused:
        decode_state(pack(data), max_expiry=WEEK, user_id="U0ALICE01")
    assert str(refused.value) == STALE_BUTTONS


@pytest.mark.parametrize("minutes", [3650 * 1440 + 1, 10**9, 10**100, -(10**100)])
def test_an_expiry_no_reply_could_hold_is_stale_not_an_overflow(minutes: int) -> None:
    """Regression: 10**100 minutes overflowed timedelta while the refusal was worded."""
    with pytest.raises(StateError) as refused:
        decode_state(pack(base_data() | {"e": minutes}), max_expiry=WEEK, user_id="U0ALICE01")
    assert str(refused.value) == STALE_BUTTONS


@pytest.mark.parametrize(
    "change",
    [
        {"n": "\u202efdp.exe"},
        {"n": "report\u200b.pdf"},
        {"n": ".env"},
        {"n": 'say "hi".pdf'},
        {"r": "https://wix.com@evil.example/expired"},
        {"r": "https://evil.example\\.wix.com/"},
        {"r": "https://example.com/\u202e"},
    ],
)
def test_names_and_redirects_are_held_to_the_commands_rules(change: dict[str, Any]) -> None:
    with pytest.raises(StateError):
        decode_state(pack(base_data() | change), max_expiry=WEEK, user_id="U0ALICE01")


def test_the_base_data_itself_is_valid() -> None:
    state = decode_state(pack(base_data()), max_expiry=WEEK, user_id="U0ALICE01")
    assert state.files == (FileState(IMAGE_ID, MediaType.IMAGE),)


def test_a_decompression_bomb_is_refused() -> None:
    bomb = PREFIX + base64.urlsafe_b64encode(zlib.compress(b"[" * 1_000_000, 9)).decode()
    assert len(bomb) <= MAX_TOKEN_CHARS
    with pytest.raises(StateError):
        decode_state(bomb, max_expiry=WEEK)


def test_files_with_the_same_renditions_share_one_request() -> None:
    state = a_state(asset_keys=("src",))
    requests = state.requests()
    assert [[ref.file_id for ref in refs] for refs, _ in requests] == [
        [IMAGE_ID, DOC_ID],
        [VIDEO_ID],
    ]
    assert [options.asset_keys for _, options in requests] == [("src",), ("src", "720p.mp4")]
    assert all(options.expires_in == timedelta(hours=1) for _, options in requests)


def test_changing_one_files_renditions_leaves_the_others() -> None:
    state = a_state().with_file_keys(0, ("720p.mp4",))
    assert state.files[0].asset_keys == ("720p.mp4",)
    assert state.files[1].asset_keys == ("src", "720p.mp4")
    assert state.files[2].asset_keys is None
    assert a_state().with_expiry(15).expires_minutes == 15


def test_rendition_choices_are_original_each_rendition_then_all() -> None:
    assert rendition_choices(["720p.mp4", "src", "1080p.mp4", "720p.mp4", "bad key"]) == [
        ("Original", ("src",)),
        ("720p.mp4", ("720p.mp4",)),
        ("1080p.mp4", ("1080p.mp4",)),
        ("All", ("src", "720p.mp4", "1080p.mp4")),
    ]
    assert rendition_choices([]) == [("Original", ("src",))]


def test_long_filenames_are_shortened_for_the_state() -> None:
    [ref] = parse_media_refs(
        f"https://static.wixstatic.com/media/{IMAGE_ID}/v1/fill/w_1,h_1/{'x' * 200}.jpg"
    ).refs
    assert ref.filename is not None
    state_file = file_state(ref)
    assert state_file.filename is not None
    assert len(state_file.filename) == 60


# --- property: every valid state survives the round trip --------------------------------------

file_ids = st.from_regex(r"[0-9a-f]{6}_[0-9a-f]{32}(~mv2\.jpg|\.pdf|)", fullmatch=True)
asset_keys = st.lists(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True), max_size=5, unique=True
)
file_states = st.builds(
    FileState,
    file_id=file_ids,
    media_type=st.sampled_from(list(MediaType)),
    filename=st.none() | st.text(st.characters(min_codepoint=32), min_size=1, max_size=60),
    asset_keys=st.none() | asset_keys.map(tuple),
)
states = st.builds(
    LinkState,
    user_id=st.from_regex(r"U[A-Z0-9]{8,11}", fullmatch=True),
    files=st.lists(file_states, min_size=1, max_size=8, unique_by=lambda f: f.file_id).map(tuple),
    expires_minutes=st.integers(1, 10080),
    asset_keys=asset_keys.map(tuple),
    download_file_name=st.none()
    | st.from_regex(r"[a-z]([a-z0-9 ._-]{0,39}[a-z0-9_-])?", fullmatch=True),
    inline=st.booleans(),
    redirect_url=st.none() | st.just("https://example.com/expired?a=1&b=2"),
)


@settings(max_examples=200, deadline=None)
@given(states)
def test_round_trip_of_any_valid_state(state: LinkState) -> None:
    token = encode_state(state)
    if len(token) > MAX_TOKEN_CHARS:
        return  # the renderer splits such replies; a too-long token is never sent
    assert decode_state(token, max_expiry=WEEK, user_id=state.user_id) == state
