"""A file's section: name, type, size, privacy, expiry, and errors in plain words."""

from __future__ import annotations

import pytest

from bot.slack.button_state import decode_state, file_state
from bot.slack.messages import (
    KEY_LACKS_PERMISSION,
    KEY_LACKS_PERMISSION_OR_SITE,
    KEY_NOT_ACCEPTED,
    NOT_FOUND,
    WIX_BUSY,
    WIX_UNREACHABLE,
    WRONG_SITE,
)
from bot.slack.render import ACTION_REGENERATE
from bot.wix.errors import (
    AccessProblem,
    AuthenticationError,
    ConnectFailure,
    InternalServerError,
    InvalidAssetKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    WixConnectionError,
    WixError,
    WixUnreachableError,
)
from tests.slack.render.conftest import (
    EXPIRES,
    WEEK,
    assert_within_limits,
    failed,
    file_sections,
    ok,
    ref,
    reply,
    texts,
)


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


@pytest.mark.parametrize(
    ("error", "words", "retry"),
    [
        (NotFoundError("gone", status=404), NOT_FOUND, False),
        (PermissionDeniedError("no", status=403), KEY_LACKS_PERMISSION_OR_SITE, False),
        (
            PermissionDeniedError(
                "no", status=403, access_problem=AccessProblem.MISSING_PERMISSION
            ),
            KEY_LACKS_PERMISSION,
            False,
        ),
        (
            PermissionDeniedError("no", status=403, access_problem=AccessProblem.WRONG_SITE),
            WRONG_SITE,
            False,
        ),
        (
            WixUnreachableError("refused", reason=ConnectFailure.REFUSED),
            WIX_UNREACHABLE,
            True,
        ),
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
