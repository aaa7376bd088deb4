"""WixMediaClient through real HTTP against the loopback fake Wix.

Retry tests patch the backoff ``sleep`` (and the clock it advances), so nothing here
really waits except where a test is about real time (timeouts, concurrency).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.wix.auth import OAuthClientCredentials
from bot.wix.client import RetryPolicy, WixMediaClient
from bot.wix.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectFailure,
    InternalServerError,
    InvalidAssetKeyError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    WixAPIError,
    WixConnectionError,
    WixResponseError,
    WixTimeoutError,
    WixUnreachableError,
    error_from_response,
    parse_retry_after,
)
from bot.wix.models import (
    ContentDisposition,
    DownloadUrl,
    FileDescriptor,
    MediaTypeName,
)
from bot.wix.ratelimit import RateLimiter
from tests.fakes.wix import FakeWix
from tests.wix.conftest import ClientFactory, FakeClock, RecordingSleep

GENERATE = "/generate-file-download-url"
GET_FILES = "/get-files"

# -- calls and request shapes --------------------------------------------------------


async def test_generate_sends_the_documented_body_with_the_raw_api_key(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file(kind="video")
    client = make_client()

    urls = await client.generate_file_download_url(
        file_id,
        asset_keys=["720p.mp4", "src"],
        expiration_minutes=60,
        redirect_url="https://example.com/expired",
        download_file_name="clip.mp4",
        content_disposition=ContentDisposition.INLINE,
    )

    assert [u.asset_key for u in urls] == ["720p.mp4", "src"]
    assert all(
        u.url.startswith(f"https://download-files.wixmp.com/media/{file_id}?token=") for u in urls
    )
    (request,) = fake_wix.requests_to(GENERATE)
    assert request.method == "POST"
    assert request.path == "/site-media/v1/files/generate-file-download-url"
    assert request.headers["authorization"] == FakeWix.API_KEY  # raw, no "Bearer"
    assert request.headers["wix-site-id"] == FakeWix.SITE_ID
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "fileId": file_id,
        "downloadFileName": "clip.mp4",
        "expirationInMinutes": 60,
        "expirationRedirectUrl": "https://example.com/expired",
        "assetKeys": ["720p.mp4", "src"],
        "contentDisposition": "INLINE",
    }
    issued = fake_wix.issued
    assert [(i.asset_key, i.expiration_minutes, i.content_disposition) for i in issued] == [
        ("720p.mp4", 60, "INLINE"),
        ("src", 60, "INLINE"),
    ]
    assert {(i.download_file_name, i.redirect_url) for i in issued} == {
        ("clip.mp4", "https://example.com/expired")
    }


async def test_generate_without_options_asks_for_the_original(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file(kind="document")

    urls = await make_client().generate_file_download_url(file_id)

    assert [u.asset_key for u in urls] == ["src"]
    assert urls[0].url.startswith(f"https://download-files.wixmp.com/ugd/{file_id}?token=")
    (request,) = fake_wix.requests_to(GENERATE)
    assert request.json == {"fileId": file_id}
    (issued,) = fake_wix.issued
    assert (issued.expiration_minutes, issued.content_disposition) == (600, "ATTACHMENT")


async def test_generate_accepts_a_wix_media_url_as_file_id(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file("0abec0_b291a9349a0b4da59067f76287e386fb~mv2.jpg")
    wix_url = f"wix:image://v1/{file_id}/leon.jpg#originWidth=3024&originHeight=4032"

    urls = await make_client().generate_file_download_url(wix_url)

    assert len(urls) == 1
    assert fake_wix.issued[0].file_id == file_id


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"expiration_minutes": 0}, ValueError),
        ({"expiration_minutes": 525_601}, ValueError),
        ({"expiration_minutes": True}, ValueError),
        ({"asset_keys": []}, ValueError),
        ({"asset_keys": [f"k{i}" for i in range(101)]}, ValueError),
        ({"asset_keys": ["x" * 101]}, ValueError),
        ({"asset_keys": [""]}, ValueError),
        ({"asset_keys": "src"}, TypeError),
        ({"download_file_name": "n" * 101}, ValueError),
        ({"download_file_name": ""}, ValueError),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    fake_wix: FakeWix, make_client: ClientFactory, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await make_client().generate_file_download_url("abc", **kwargs)
    assert fake_wix.requests == []


async def test_bad_file_ids_are_refused_before_any_request(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="non-empty"):
        await client.generate_file_download_url(" ")
    with pytest.raises(ValueError, match="1000"):
        await client.get_file_descriptor("x" * 1001)
    with pytest.raises(ValueError, match=r"file_ids: .*at least 1 item"):
        await client.generate_files_download_url([])
    with pytest.raises(ValueError, match=r"file_ids: .*at most 1000 items"):
        await client.generate_files_download_url([f"id{i}" for i in range(1001)])
    with pytest.raises(ValueError, match=r"file_ids\.1: .*at least 1 character"):
        await client.get_file_descriptors(["abc", ""])
    assert fake_wix.requests == []


async def test_limits_at_the_edges_are_accepted(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file()
    client = make_client()
    await client.generate_file_download_url(file_id, expiration_minutes=1)
    await client.generate_file_download_url(
        file_id, expiration_minutes=525_600, download_file_name="n" * 100
    )
    assert [i.expiration_minutes for i in fake_wix.issued] == [1, 525_600]


async def test_get_file_descriptor_parses_a_video_descriptor(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file(kind="video", size=5_918_720, display_name="clip.mpg")

    descriptor = await make_client().get_file_descriptor(file_id)

    assert descriptor.id == file_id
    assert descriptor.display_name == "clip.mpg"
    assert descriptor.media_type is MediaTypeName.VIDEO
    assert descriptor.size_in_bytes == 5_918_720  # Wix sends "5918720"
    assert descriptor.private is False
    assert descriptor.created_date is not None
    assert descriptor.media.video is not None
    # 3 renditions + hls manifest + storyboard in the descriptor; only the renditions are keys.
    assert len(descriptor.media.video.resolutions) == 5
    assert descriptor.rendition_keys == ("480p.mp4", "720p.mp4", "1080p.mp4")
    (request,) = fake_wix.requests_to("/get-file-by-id")
    assert request.method == "GET"
    assert request.query == {"fileId": file_id}


async def test_rendition_keys_of_the_fake_descriptors_are_accepted_by_generate(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    video = fake_wix.add_file(kind="video", renditions=["360p.mp4", "720p.webm"])
    audio = fake_wix.add_file(kind="audio")
    image = fake_wix.add_file(kind="image")
    client = make_client()

    descriptors = await client.get_file_descriptors([video, audio, image])

    assert [d.rendition_keys for d in descriptors] == [
        ("360p.mp4", "720p.webm"),
        ("320kbs.mp3",),
        (),
    ]
    for descriptor in descriptors:
        keys = ["src", *descriptor.rendition_keys]
        urls = await client.generate_file_download_url(descriptor.id, asset_keys=keys)
        assert [u.asset_key for u in urls] == keys


async def test_get_file_descriptor_sends_a_wix_url_url_encoded(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file("2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf", kind="document")
    wix_url = f"wix:document://v1/ugd/{file_id}/name with space.pdf"

    descriptor = await make_client().get_file_descriptor(wix_url)

    assert descriptor.id == file_id
    (request,) = fake_wix.requests_to("/get-file-by-id")
    assert request.query == {"fileId": wix_url}


async def test_private_file_descriptor_has_empty_media_urls(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file(kind="video", private=True)
    descriptor = await make_client().get_file_descriptor(file_id)
    assert descriptor.private is True
    assert descriptor.media.video is not None
    assert {r.url for r in descriptor.media.video.resolutions} == {""}
    assert descriptor.thumbnail_url


async def test_get_file_descriptors_chunks_250_ids_into_3_concurrent_calls(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    ids = [fake_wix.add_file(kind="image") for _ in range(250)]
    fake_wix.latency = 0.5  # long enough that the three calls overlap on a loaded machine

    descriptors = await make_client().get_file_descriptors(ids)

    assert [d.id for d in descriptors] == ids
    requests = fake_wix.requests_to(GET_FILES)
    sizes = sorted(len(r.json["fileIds"]) for r in requests if isinstance(r.json, dict))
    assert sizes == [50, 100, 100]
    assert fake_wix.max_in_flight == 3


async def test_get_file_descriptors_of_nothing_makes_no_call(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    assert await make_client().get_file_descriptors([]) == []
    assert fake_wix.requests == []


async def test_get_file_descriptors_fails_whole_when_one_id_is_unknown(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    known = [fake_wix.add_file() for _ in range(150)]
    with pytest.raises(NotFoundError) as caught:
        await make_client().get_file_descriptors([*known, "ffffff_missing.jpg"])
    assert "ffffff_missing.jpg" in caught.value.message


async def test_generate_files_download_url_returns_the_permanent_zip_url(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    ids = [fake_wix.add_file(kind="document") for _ in range(3)]

    url = await make_client().generate_files_download_url(ids)

    assert url.startswith("https://archive.wixmp.com/archive/wix/")
    (request,) = fake_wix.requests_to("/site-media/v1/files/generate-download-url")
    assert request.json == {"fileIds": ids}


# -- models ------------------------------------------------------------------------


def test_descriptor_tolerates_unknown_media_types_and_new_fields() -> None:
    descriptor = FileDescriptor.model_validate(
        {
            "id": "abc",
            "mediaType": "FONT",
            "sizeInBytes": "not a number",
            "brandNewField": {"x": 1},
            "media": {"font": {"assets": []}, "video": {"resolutions": [{"newThing": 1}]}},
        }
    )
    assert descriptor.media_type == "FONT"
    assert descriptor.size_in_bytes is None
    assert descriptor.rendition_keys == ()


def test_rendition_keys_prefer_audio_asset_keys_and_dedupe() -> None:
    descriptor = FileDescriptor.model_validate(
        {
            "id": "abc.mp3",
            "mediaType": "AUDIO",
            "media": {
                "audio": {
                    "assets": [
                        {"filename": "file.mp3", "assetKey": "320kbs.mp3"},
                        {"filename": "128kbs.mp3"},
                        {"filename": "128kbs.mp3"},
                        {"assetKey": "src"},
                        {"id": "no-name"},
                    ]
                }
            },
        }
    )
    assert descriptor.rendition_keys == ("320kbs.mp3", "128kbs.mp3")


def test_download_urls_keep_the_signed_url_out_of_repr() -> None:
    url = DownloadUrl(url="https://download-files.wixmp.com/media/x?token=SECRET", asset_key="src")
    assert "SECRET" not in repr(url)
    assert "SECRET" not in str(url)


# -- errors --------------------------------------------------------------------------

_ERROR_CASES = [
    (400, BadRequestError, "INVALID_ARGUMENT"),
    (401, AuthenticationError, "UNAUTHENTICATED"),
    (403, PermissionDeniedError, "PERMISSION_DENIED"),
    (404, NotFoundError, "NOT_FOUND"),
    (409, ConflictError, "ALREADY_EXISTS"),
    (428, PreconditionFailedError, "REQUIRED_APP_NOT_INSTALLED"),
    (429, RateLimitError, "RESOURCE_EXHAUSTED"),
    (418, WixAPIError, "UNKNOWN"),
]


@pytest.mark.parametrize(("status", "error_type", "code"), _ERROR_CASES)
async def test_error_statuses_map_to_typed_errors_with_wix_details(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    status: int,
    error_type: type[WixAPIError],
    code: str,
) -> None:
    file_id = fake_wix.add_file()
    fake_wix.inject(GENERATE, status=status)
    client = make_client(retry=RetryPolicy(max_attempts=1))

    with pytest.raises(WixAPIError) as caught:
        await client.generate_file_download_url(file_id)

    error = caught.value
    assert type(error) is error_type
    assert error.status == status
    assert error.code == code
    assert error.message
    (request,) = fake_wix.requests_to(GENERATE)
    assert error.request_id == request.request_id
    assert request.request_id in str(error)
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("body", [None, "", "<html>upstream sad</html>"])
async def test_server_errors_with_empty_or_odd_bodies(
    fake_wix: FakeWix, make_client: ClientFactory, status: int, body: str | None
) -> None:
    fake_wix.inject(GENERATE, status=status, body=body)
    client = make_client(retry=RetryPolicy(max_attempts=1))

    with pytest.raises(InternalServerError) as caught:
        await client.generate_file_download_url(fake_wix.add_file())

    error = caught.value
    assert error.status == status
    assert error.code is None
    assert error.message == (
        f"Wix answered HTTP {status} ({httpx.codes.get_reason_phrase(status)}) "
        "without an error message"
    )
    assert error.request_id == fake_wix.requests_to(GENERATE)[0].request_id
    if body is None:
        assert error.body == {"message": "", "details": {}}
    else:
        assert error.body is None


async def test_validation_errors_carry_every_field_violation_and_extra_keys(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    body = {
        "message": "Not really valid",
        "errorCode": -100,
        "details": {
            "validationError": {
                "fieldViolations": [
                    {
                        "field": "fieldA",
                        "description": "Invalid musical note",
                        "violatedRule": "CUSTOM",
                        "ruleName": "INVALID_NOTE",
                        "data": {"value": "FI"},
                    },
                    {"field": "fieldB", "violatedRule": "MAX", "data": {"threshold": 20}},
                    "not an object",
                ]
            },
            "somethingNew": True,
        },
    }
    fake_wix.inject(GENERATE, status=400, body=body)

    with pytest.raises(BadRequestError) as caught:
        await make_client().generate_file_download_url(fake_wix.add_file())

    error = caught.value
    assert error.message == "Not really valid"
    assert error.code is None
    assert [(v.field, v.violated_rule, v.rule_name, v.data) for v in error.field_violations] == [
        ("fieldA", "CUSTOM", "INVALID_NOTE", {"value": "FI"}),
        ("fieldB", "MAX", None, {"threshold": 20}),
    ]
    assert error.field_violations[0].description == "Invalid musical note"
    assert error.body is not None
    assert error.body["errorCode"] == -100


async def test_application_error_code_description_and_data(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    fake_wix.inject(
        GENERATE,
        status=428,
        body={
            "message": "App is not installed",
            "details": {
                "applicationError": {
                    "code": "REQUIRED_APP_NOT_INSTALLED",
                    "description": "Install the app first",
                    "data": {"appId": "x"},
                }
            },
        },
    )
    with pytest.raises(PreconditionFailedError) as caught:
        await make_client().generate_file_download_url(fake_wix.add_file())
    assert (caught.value.message, caught.value.code, caught.value.description) == (
        "App is not installed",
        "REQUIRED_APP_NOT_INSTALLED",
        "Install the app first",
    )


async def test_unknown_file_is_not_found_as_404(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await make_client().generate_file_download_url("ffffff_nope.jpg")
    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert len(fake_wix.requests_to(GENERATE)) == 1


async def test_unknown_file_is_not_found_as_400_resource_not_found(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    # Only the rule is documented (docs/wix.md, Get File Descriptor): both map to NotFoundError.
    fake_wix.not_found_status = 400
    with pytest.raises(NotFoundError) as caught:
        await make_client().get_file_descriptor("ffffff_nope.jpg")
    assert caught.value.status == 400
    assert caught.value.rule_names == ("RESOURCE_NOT_FOUND",)
    assert isinstance(caught.value, WixAPIError)
    assert not isinstance(caught.value, BadRequestError)


async def test_invalid_asset_key_carries_the_requested_keys(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file(kind="video")

    with pytest.raises(InvalidAssetKeyError) as caught:
        await make_client().generate_file_download_url(file_id, asset_keys=["720p.mp4", "4k.mp4"])

    error = caught.value
    assert error.asset_keys == ("720p.mp4", "4k.mp4")
    assert error.status == 400
    assert error.rule_names == ("INVALID_ASSET_KEY",)
    assert error.field_violations[0].field == "assetKeys"
    assert error.request_id == fake_wix.requests_to(GENERATE)[0].request_id
    assert len(fake_wix.requests_to(GENERATE)) == 1  # never retried


async def test_read_only_key_cannot_generate(fake_wix: FakeWix, make_client: ClientFactory) -> None:
    file_id = fake_wix.add_file()
    fake_wix.key_permissions = "read"
    client = make_client()

    with pytest.raises(PermissionDeniedError) as caught:
        await client.generate_file_download_url(file_id)
    assert caught.value.code == "PERMISSION_DENIED"
    assert (await client.get_file_descriptor(file_id)).id == file_id
    assert len(fake_wix.requests_to(GENERATE)) == 1


async def test_success_without_a_json_object_is_a_response_error(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    fake_wix.inject(GENERATE, status=200, body="not json")
    with pytest.raises(WixResponseError):
        await make_client().generate_file_download_url(fake_wix.add_file())
    fake_wix.inject(GENERATE, status=200, body={"downloadUrls": [{"assetKey": "src"}]})
    with pytest.raises(WixResponseError, match="GenerateFileDownloadUrlResponse"):
        await make_client().generate_file_download_url(fake_wix.add_file())


def test_error_from_response_reads_headers_case_insensitively_and_ietf_bodies() -> None:
    error = error_from_response(
        401,
        {"error": "invalid_client", "error_description": "Bad secret"},
        {"X-Wix-Request-Id": "req-1"},
    )
    assert isinstance(error, AuthenticationError)
    assert (error.message, error.code, error.request_id) == (
        "Bad secret",
        "invalid_client",
        "req-1",
    )
    odd = error_from_response(400, {"message": 5, "details": []}, {})
    assert type(odd) is BadRequestError
    assert odd.message == "5"
    assert error_from_response(500, ["a list"], {}).body is None


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=42), usegmt=True), now=now) == 42
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=42), usegmt=True), now=now) == 0
    )
    assert parse_retry_after("-3") == 0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk) is None


# -- retries (sleep patched) ---------------------------------------------------------


async def test_429_retry_after_is_honoured(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, status=429, retry_after="7")
    urls = await make_client().generate_file_download_url(fake_wix.add_file())
    assert len(urls) == 1
    assert fake_sleep.delays == [7.0]
    assert len(fake_wix.requests_to(GENERATE)) == 2


async def test_429_retry_after_is_capped(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, status=429, retry_after="120")
    client = make_client(retry=RetryPolicy(max_retry_after=30.0, total_timeout=100.0))
    await client.generate_file_download_url(fake_wix.add_file())
    assert fake_sleep.delays == [30.0]


async def test_429_retry_after_as_http_date(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=5)
    fake_wix.inject(GENERATE, status=429, retry_after=format_datetime(when, usegmt=True))
    await make_client().generate_file_download_url(fake_wix.add_file())
    (delay,) = fake_sleep.delays
    assert 3.0 <= delay <= 5.0


async def test_429_without_retry_after_backs_off_exponentially(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, status=429, times=2)
    client = make_client(jitter=lambda: 0.5)
    await client.generate_file_download_url(fake_wix.add_file())
    assert fake_sleep.delays == [0.25, 0.5]  # half of the 0.5 s and 1 s caps
    assert client.stats.retries == 2


async def test_5xx_then_success_with_full_jitter_bounds(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    file_id = fake_wix.add_file()
    client = make_client()
    for _ in range(20):
        fake_wix.inject(GENERATE, status=500)
        fake_wix.inject(GENERATE, status=503)
        await client.generate_file_download_url(file_id)
    first, second = fake_sleep.delays[0::2], fake_sleep.delays[1::2]
    assert all(0 <= d <= 0.5 for d in first)
    assert all(0 <= d <= 1.0 for d in second)
    assert len(set(fake_sleep.delays)) > 20  # jittered, not a fixed schedule
    assert len(fake_wix.requests_to(GENERATE)) == 60


async def test_backoff_doubles_up_to_max_delay_then_gives_up(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, status=500, times=10)
    policy = RetryPolicy(max_attempts=6, initial_delay=0.5, max_delay=2.0)
    client = make_client(retry=policy, jitter=lambda: 1.0)
    with pytest.raises(InternalServerError):
        await client.generate_file_download_url(fake_wix.add_file())
    assert fake_sleep.delays == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert len(fake_wix.requests_to(GENERATE)) == 6


async def test_dropped_connection_then_success(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, drop_connection=True)
    urls = await make_client().generate_file_download_url(fake_wix.add_file())
    assert len(urls) == 1
    assert [r.status for r in fake_wix.requests_to(GENERATE)] == [None, 200]
    assert len(fake_sleep.delays) == 1


async def test_dropped_connections_exhaust_into_a_connection_error(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, drop_connection=True, times=3)
    client = make_client(retry=RetryPolicy(max_attempts=3))
    with pytest.raises(WixConnectionError) as caught:
        await client.generate_file_download_url(fake_wix.add_file())
    assert not isinstance(caught.value, WixTimeoutError)
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert len(fake_wix.requests_to(GENERATE)) == 3
    assert len(fake_sleep.delays) == 2


async def test_connection_refused_is_a_connection_error(
    make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    with FakeWix() as gone:
        base_url = gone.base_url  # a port nobody listens on once stopped
    client = make_client(base_url=base_url, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(WixConnectionError):
        await client.generate_file_download_url("abc")
    assert len(fake_sleep.delays) == 1


async def test_slow_answer_times_out_then_succeeds(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, delay=1.0)
    client = make_client(timeout=httpx.Timeout(0.15, connect=1.0))
    urls = await client.generate_file_download_url(fake_wix.add_file())
    assert len(urls) == 1
    assert len(fake_wix.requests_to(GENERATE)) == 2
    assert len(fake_sleep.delays) == 1


async def test_slow_answers_exhaust_into_a_timeout_error(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    fake_wix.inject(GENERATE, delay=1.0, times=2)
    client = make_client(
        timeout=httpx.Timeout(0.15, connect=1.0), retry=RetryPolicy(max_attempts=2)
    )
    with pytest.raises(WixTimeoutError) as caught:
        await client.generate_file_download_url(fake_wix.add_file())
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    # The client gave up while the fake was still holding back its second answer.
    assert fake_wix.requests_to(GENERATE)[-1].finished is None
    assert len(fake_wix.requests_to(GENERATE)) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 428, 501])
async def test_client_errors_are_never_retried(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep, status: int
) -> None:
    fake_wix.inject(GENERATE, status=status, times=5)
    with pytest.raises(WixAPIError):
        await make_client().generate_file_download_url(fake_wix.add_file())
    assert len(fake_wix.requests_to(GENERATE)) == 1
    assert fake_sleep.delays == []


async def test_total_time_bound_stops_retrying(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    fake_sleep: RecordingSleep,
    fake_clock: FakeClock,
) -> None:
    fake_wix.inject(GENERATE, status=429, retry_after="8", times=10)
    client = make_client(retry=RetryPolicy(max_attempts=10, total_timeout=20.0))
    started = fake_clock()
    with pytest.raises(RateLimitError) as caught:
        await client.generate_file_download_url(fake_wix.add_file())
    assert caught.value.retry_after == 8.0
    assert fake_sleep.delays == [8.0, 8.0]  # a third wait would end at 24 s > 20 s
    assert fake_clock() - started <= 20.0
    assert len(fake_wix.requests_to(GENERATE)) == 3


async def test_get_calls_are_retried_too(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    file_id = fake_wix.add_file()
    fake_wix.inject("/get-file-by-id", status=502)
    fake_wix.inject(GET_FILES, status=503)
    client = make_client()
    assert (await client.get_file_descriptor(file_id)).id == file_id
    assert [d.id for d in await client.get_file_descriptors([file_id])] == [file_id]
    assert len(fake_sleep.delays) == 2


# -- concurrency and rate limiting ------------------------------------------------------


async def test_twenty_generates_run_concurrently(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    ids = [fake_wix.add_file() for _ in range(20)]
    fake_wix.latency = 0.5
    client = make_client(sleep=asyncio.sleep, clock=time.monotonic)

    results = await asyncio.gather(*(client.generate_file_download_url(i) for i in ids))

    assert len(results) == 20
    assert fake_wix.max_in_flight == 20  # all at once, not one after another
    assert client.stats.calls == 20


async def test_max_concurrency_bounds_requests_in_flight(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    ids = [fake_wix.add_file() for _ in range(12)]
    fake_wix.latency = 0.05
    client = make_client(max_concurrency=3)
    await asyncio.gather(*(client.generate_file_download_url(i) for i in ids))
    assert fake_wix.max_in_flight == 3
    assert client.stats.max_in_flight == 3


async def test_a_burst_the_rate_limiter_admits_goes_out_in_one_wave(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    # 100 calls: what a burst of 50 one-file commands makes, well inside Wix's 200 a minute.
    ids = [fake_wix.add_file() for _ in range(100)]
    fake_wix.latency = 1.0  # long enough for all 100 to be sent first on a loaded machine
    client = make_client()
    await asyncio.gather(*(client.generate_file_download_url(i) for i in ids))
    assert fake_wix.max_in_flight == 100  # none waited for another's answer


async def test_every_attempt_goes_through_the_rate_limiter(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    fake_clock: FakeClock,
    fake_sleep: RecordingSleep,
) -> None:
    file_id = fake_wix.add_file()
    limiter = RateLimiter(limit=2, period=60.0, clock=fake_clock, sleep=fake_sleep)
    fake_wix.inject(GENERATE, status=500)
    client = make_client(limiter=limiter, jitter=lambda: 0.0)

    await client.generate_file_download_url(file_id)  # 500 then success: 2 attempts
    await client.generate_file_download_url(file_id)  # third attempt waits for the window

    assert client.limiter is limiter
    assert (limiter.acquired, limiter.waited) == (3, 1)
    assert fake_sleep.delays == [0.0, 60.0]


# -- lifecycle -----------------------------------------------------------------------


async def test_construction_does_no_io_and_close_is_idempotent(api_key_auth: Any) -> None:
    client = WixMediaClient(api_key_auth, base_url="http://127.0.0.1:9")  # nothing listens
    await client.aclose()
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_file_descriptor("abc")


async def test_an_injected_http_client_is_used_and_left_open(
    fake_wix: FakeWix, api_key_auth: Any
) -> None:
    file_id = fake_wix.add_file()
    async with httpx.AsyncClient(headers={"User-Agent": "injected"}) as http:
        async with WixMediaClient(api_key_auth, base_url=fake_wix.base_url, http=http) as client:
            await client.get_file_descriptor(file_id)
        assert not http.is_closed
    assert fake_wix.requests[0].headers["user-agent"] == "injected"


# -- logging -------------------------------------------------------------------------


async def test_logs_never_contain_secrets_or_signed_urls(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    video = fake_wix.add_file(kind="video", private=True)
    api_key_client = make_client(retry=RetryPolicy(max_attempts=2))
    oauth_client = make_client(oauth, retry=RetryPolicy(max_attempts=2))

    await oauth_client.generate_file_download_url(video, asset_keys=["src", "720p.mp4"])
    fake_wix.expire_tokens()
    await oauth_client.generate_file_download_url(video)  # 401 → new token → retry
    fake_wix.inject(GENERATE, status=429, retry_after="1")
    await api_key_client.generate_file_download_url(video)
    fake_wix.inject(GENERATE, status=503, times=2)
    with pytest.raises(InternalServerError):
        await api_key_client.generate_file_download_url(video)
    with pytest.raises(InvalidAssetKeyError):
        await api_key_client.generate_file_download_url(video, asset_keys=["8k.mp4"])
    fake_wix.inject(GENERATE, drop_connection=True)
    await api_key_client.generate_file_download_url(video)
    await api_key_client.get_file_descriptors([video])
    await api_key_client.generate_files_download_url([video])
    bad_oauth = OAuthClientCredentials(
        FakeWix.CLIENT_ID,
        SecretStr("wrong-secret-xyz"),
        FakeWix.INSTANCE_ID,
        token_url=fake_wix.base_url + "/oauth2/token",
    )
    with pytest.raises(AuthenticationError):
        await make_client(bad_oauth).get_file_descriptor(video)

    secrets = _secrets_seen(fake_wix, extra=["wrong-secret-xyz"])
    assert len(secrets) > 10
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in text
    assert "token=" not in text
    client_logs = [r for r in caplog.records if r.name == "bot.wix.client"]
    assert any("request id" in r.getMessage() for r in client_logs)
    assert any(r.levelno == logging.WARNING for r in client_logs)


def _secrets_seen(fake_wix: FakeWix, extra: Sequence[str]) -> set[str]:
    secrets = {FakeWix.API_KEY, FakeWix.CLIENT_SECRET, *extra}
    secrets |= {link.url for link in fake_wix.issued}
    secrets |= {link.token for link in fake_wix.issued}
    for request in fake_wix.requests:
        if request.headers.get("authorization"):
            secrets.add(request.headers["authorization"])
    return secrets


async def test_waiting_for_the_rate_limiter_does_not_use_up_the_call_budget(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    fake_clock: FakeClock,
    fake_sleep: RecordingSleep,
) -> None:
    file_id = fake_wix.add_file()
    limiter = RateLimiter(limit=1, period=60.0, clock=fake_clock, sleep=fake_sleep)
    client = make_client(limiter=limiter, retry=RetryPolicy(max_attempts=1, total_timeout=45.0))

    await client.generate_file_download_url(file_id)
    fake_wix.latency = 0.05  # an answer that takes real time, as Wix's do
    # The second call queues 60 s for the window, longer than the whole 45 s budget;
    # it is then sent with its full timeout, not with none left.
    [link] = await client.generate_file_download_url(file_id)
    assert fake_sleep.delays == [60.0]
    assert link.asset_key == "src"
    assert len(fake_wix.requests_to(GENERATE)) == 2


# -- deadlines and size caps -----------------------------------------------------------


async def test_an_answer_that_drips_in_is_cut_off_by_the_attempt_deadline(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    # ~100 chunks 0.1 s apart: each chunk restarts httpx's read timeout, so only a
    # deadline on the whole attempt stops it before the ~10 s the drip takes.
    file_id = fake_wix.add_file()
    fake_wix.inject(GENERATE, drip_interval=0.1, drip_chunk=4, pad_bytes=200)
    client = make_client(
        timeout=httpx.Timeout(1.0), retry=RetryPolicy(max_attempts=1, total_timeout=0.5)
    )
    started = time.monotonic()
    with pytest.raises(WixTimeoutError):
        await client.generate_file_download_url(file_id)
    assert time.monotonic() - started < 5.0  # generous: the drip alone takes ~10 s
    assert client.stats.in_flight == 0


async def test_a_dripping_attempt_frees_its_slot_and_the_retry_succeeds(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    file_id = fake_wix.add_file()
    fake_wix.inject(GENERATE, drip_interval=0.1, drip_chunk=4, pad_bytes=200)
    client = make_client(
        max_concurrency=1,
        timeout=httpx.Timeout(1.0),
        retry=RetryPolicy(max_attempts=2, attempt_timeout=0.5),
    )
    [link] = await client.generate_file_download_url(file_id)
    assert link.asset_key == "src"
    assert len(fake_wix.requests_to(GENERATE)) == 2
    assert len(fake_sleep.delays) == 1
    assert (client.stats.in_flight, client.stats.max_in_flight) == (0, 1)


@pytest.mark.parametrize(
    "shape",
    [
        {},  # with Content-Length
        {"drip_interval": 0.001, "drip_chunk": 256 * 1024},  # chunked, no length
    ],
    ids=["content-length", "chunked"],
)
async def test_an_answer_larger_than_the_cap_is_refused_not_buffered(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    fake_sleep: RecordingSleep,
    shape: dict[str, Any],
) -> None:
    file_id = fake_wix.add_file()
    fake_wix.inject(GENERATE, pad_bytes=2 * 1024 * 1024, **shape)
    client = make_client()
    with pytest.raises(WixResponseError, match="too large") as caught:
        await client.generate_file_download_url(file_id)
    assert "1024 KiB" in str(caught.value)
    assert fake_wix.requests_to(GENERATE)[0].request_id in str(caught.value)
    assert "token=" not in str(caught.value)
    assert len(fake_wix.requests_to(GENERATE)) == 1  # not retried: it would not shrink
    assert fake_sleep.delays == []


async def test_an_answer_just_under_the_cap_is_read(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file()
    fake_wix.inject(GENERATE, pad_bytes=1000 * 1024)
    [link] = await make_client().generate_file_download_url(file_id)
    assert link.asset_key == "src"


# -- telling "cannot connect" from "Wix is failing" -------------------------------------


async def test_connection_refused_is_unreachable_not_a_wix_outage(
    make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    with FakeWix() as gone:
        base_url = gone.base_url  # a port nobody listens on once stopped
    client = make_client(base_url=base_url, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(WixUnreachableError) as caught:
        await client.generate_file_download_url("abc")
    assert caught.value.reason is ConnectFailure.REFUSED
    assert len(fake_sleep.delays) == 1  # may come back: retried


async def test_an_unknown_host_is_unreachable_by_dns(
    make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    client = make_client(
        base_url="http://medialink-test.invalid", retry=RetryPolicy(max_attempts=1)
    )
    with pytest.raises(WixUnreachableError) as caught:
        await client.get_file_descriptor("abc")
    assert caught.value.reason is ConnectFailure.DNS


async def test_a_tls_failure_is_unreachable_and_not_retried(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    # https:// to a plain-HTTP server: the TLS handshake fails, as with a bad certificate.
    client = make_client(base_url=fake_wix.base_url.replace("http://", "https://"))
    with pytest.raises(WixUnreachableError) as caught:
        await client.get_file_descriptor("abc")
    assert caught.value.reason is ConnectFailure.TLS
    assert fake_sleep.delays == []


@pytest.mark.parametrize("status", [500, 503])
async def test_a_5xx_is_a_wix_outage_not_unreachable(
    fake_wix: FakeWix, make_client: ClientFactory, status: int
) -> None:
    fake_wix.inject(GENERATE, status=status, times=2)
    client = make_client(retry=RetryPolicy(max_attempts=2))
    with pytest.raises(InternalServerError) as caught:
        await client.generate_file_download_url(fake_wix.add_file())
    assert not isinstance(caught.value, WixConnectionError)


async def test_a_dropped_connection_is_not_unreachable(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    fake_wix.inject(GENERATE, drop_connection=True)
    client = make_client(retry=RetryPolicy(max_attempts=1))
    with pytest.raises(WixConnectionError) as caught:
        await client.generate_file_download_url(fake_wix.add_file())
    assert not isinstance(caught.value, WixUnreachableError | WixTimeoutError)
