"""Finding files and streaming videos: the client, the link service and the fake Wix,
through real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from bot.wix.auth import ApiKeyAuth
from bot.wix.client import RetryPolicy, WixMediaClient
from bot.wix.errors import AuthenticationError, BadRequestError
from bot.wix.fairness import FileQuotaError
from bot.wix.found import NotAVideoError, public_static_image_url
from bot.wix.links import LinkOptionsError, LinkService, PrivateFileRefusedError
from bot.wix.models import SearchSortField, SortOrder, StreamFormat
from bot.wix.refs import MediaType
from tests.fakes.wix import FakeWix

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def wix() -> Iterator[FakeWix]:
    with FakeWix() as fake:
        yield fake


@pytest.fixture
async def client(wix: FakeWix) -> AsyncIterator[WixMediaClient]:
    async with WixMediaClient(
        ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID),
        base_url=wix.base_url,
        retry=RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02),
    ) as wix_client:
        yield wix_client


@pytest.fixture
def service(client: WixMediaClient) -> LinkService:
    return LinkService(client, now=lambda: NOW, user_files_per_minute=5)


def search_bodies(wix: FakeWix) -> list[dict[str, object]]:
    bodies = []
    for request in wix.requests_to("/files/search"):
        assert isinstance(request.json, dict)
        bodies.append(request.json)
    return bodies


# -- the client and the fake ---------------------------------------------------------


async def test_search_matches_every_word_in_name_or_labels(
    wix: FakeWix, client: WixMediaClient
) -> None:
    contract = wix.add_file(kind="document", display_name="Signed Contract ACME.pdf")
    labelled = wix.add_file(kind="image", display_name="scan.jpg", labels=["contract", "acme"])
    wix.add_file(kind="document", display_name="Contract draft.pdf")
    page = await client.search_files("contract acme")
    assert sorted(f.id for f in page.files) == sorted([contract, labelled])
    assert page.next_page is None
    assert search_bodies(wix) == [{"search": "contract acme"}]


async def test_search_filters_by_type_and_privacy_and_sorts(
    wix: FakeWix, client: WixMediaClient
) -> None:
    small = wix.add_file(kind="video", display_name="b launch.mp4", size=10)
    big = wix.add_file(kind="video", display_name="a launch.mp4", size=99)
    wix.add_file(kind="video", display_name="c launch.mp4", private=True)
    wix.add_file(kind="image", display_name="launch.jpg")
    page = await client.search_files(
        "launch",
        media_types=["VIDEO"],
        private=False,
        sort_field=SearchSortField.SIZE_IN_BYTES,
        sort_order=SortOrder.ASC,
    )
    assert [f.id for f in page.files] == [small, big]
    by_name = await client.search_files(
        "launch", media_types=["VIDEO"], sort_field=SearchSortField.DISPLAY_NAME
    )
    assert [f.display_name for f in by_name.files] == [
        "c launch.mp4",
        "b launch.mp4",
        "a launch.mp4",
    ]
    assert search_bodies(wix)[0] == {
        "search": "launch",
        "mediaTypes": ["VIDEO"],
        "private": False,
        "sort": {"fieldName": "sizeInBytes", "order": "ASC"},
    }


async def test_newest_first_by_default(wix: FakeWix, client: WixMediaClient) -> None:
    old = wix.add_file(display_name="photo old", updated=datetime(2024, 1, 1, tzinfo=UTC))
    new = wix.add_file(display_name="photo new", updated=datetime(2025, 1, 1, tzinfo=UTC))
    page = await client.search_files("photo")
    assert [f.id for f in page.files] == [new, old]
    assert page.files[0].updated_date == datetime(2025, 1, 1, tzinfo=UTC)


async def test_cursor_paging_walks_every_match_once(wix: FakeWix, client: WixMediaClient) -> None:
    ids = {wix.add_file(display_name=f"holiday {n}") for n in range(7)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.search_files("holiday", limit=3, cursor=cursor)
        pages += 1
        seen.extend(f.id for f in page.files)
        cursor = page.next_page
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids)
    paging = search_bodies(wix)[1]["paging"]
    assert isinstance(paging, dict)
    assert paging["limit"] == 3
    assert isinstance(paging["cursor"], str)


async def test_a_cursor_from_another_query_is_refused(wix: FakeWix, client: WixMediaClient) -> None:
    for n in range(3):
        wix.add_file(display_name=f"cat {n}")
    page = await client.search_files("cat", limit=1)
    assert page.next_page is not None
    with pytest.raises(BadRequestError):
        await client.search_files("dog", limit=1, cursor=page.next_page)


async def test_client_refuses_what_wix_would_before_any_call(
    wix: FakeWix, client: WixMediaClient
) -> None:
    with pytest.raises(ValueError, match="search"):
        await client.search_files("x" * 201)
    with pytest.raises(ValueError, match="limit"):
        await client.search_files("x", limit=101)
    with pytest.raises(ValueError, match="media_types"):
        await client.search_files("x", media_types=["FONT"])
    with pytest.raises(TypeError):
        await client.search_files("x", media_types="VIDEO")
    with pytest.raises(ValueError, match="expiration"):
        await client.generate_video_stream_url("abc", expiration_minutes=59)
    with pytest.raises(ValueError, match="expiration"):
        await client.generate_video_stream_url("abc", expiration_minutes=1441)
    assert wix.requests == []


async def test_the_fake_enforces_the_documented_limits_and_auth(wix: FakeWix) -> None:
    headers = {"Authorization": FakeWix.API_KEY, "wix-site-id": FakeWix.SITE_ID}
    async with httpx.AsyncClient(base_url=wix.base_url) as http:
        long = await http.post(
            "/site-media/v1/files/search", json={"search": "x" * 201}, headers=headers
        )
        big = await http.post(
            "/site-media/v1/files/search", json={"paging": {"limit": 101}}, headers=headers
        )
        anonymous = await http.post("/site-media/v1/files/search", json={})
        stream = await http.post(
            "/site-media/v1/files/generate-video-stream-url",
            json={"fileId": "x", "expirationInMinutes": 30},
            headers=headers,
        )
        stream_anonymous = await http.post(
            "/site-media/v1/files/generate-video-stream-url", json={"fileId": "x"}
        )
    assert long.status_code == 400
    assert big.status_code == 400
    assert anonymous.status_code == 401
    assert stream.status_code == 400
    assert stream_anonymous.status_code == 401


async def test_stream_url_of_a_public_video_has_no_expiry(
    wix: FakeWix, client: WixMediaClient
) -> None:
    video = wix.add_file(kind="video")
    url = await client.generate_video_stream_url(video)
    assert url.url.endswith("master.m3u8")
    [issued] = wix.issued_streams
    assert (issued.file_id, issued.format, issued.expiration_minutes) == (video, "HLS", None)


async def test_stream_url_only_for_videos(wix: FakeWix, client: WixMediaClient) -> None:
    image = wix.add_file(kind="image")
    with pytest.raises(BadRequestError):
        await client.generate_video_stream_url(image, format=StreamFormat.DASH)


async def test_search_needs_credentials_wix_accepts(wix: FakeWix) -> None:
    async with WixMediaClient(
        ApiKeyAuth(SecretStr("IST.wrong"), FakeWix.SITE_ID),
        base_url=wix.base_url,
        retry=RetryPolicy(max_attempts=1),
    ) as wrong:
        with pytest.raises(AuthenticationError):
            await wrong.search_files("x")


# -- the link service ------------------------------------------------------------------


async def test_find_files_reads_the_facts_people_need(wix: FakeWix, service: LinkService) -> None:
    image = wix.add_file(kind="image", display_name="team photo.jpg", size=2048)
    video = wix.add_file(kind="video", display_name="team video")
    found = await service.find_files("team", requester="U1")
    by_id = {f.file_id: f for f in found.files}
    assert by_id[image].name == "team photo.jpg"
    assert by_id[image].media_type is MediaType.IMAGE
    assert by_id[image].size_bytes == 2048
    assert by_id[image].private is False
    assert by_id[image].updated_at is not None
    assert by_id[image].thumbnail_url == f"https://static.wixstatic.com/media/{image}"
    assert by_id[video].media_type is MediaType.VIDEO
    assert by_id[video].thumbnail_url is None  # images only
    assert search_bodies(wix) == [{"search": "team", "paging": {"limit": 10}}]


async def test_someone_who_may_not_link_private_files_sees_public_ones_only(
    wix: FakeWix, service: LinkService
) -> None:
    public = wix.add_file(kind="document", display_name="plan public")
    wix.add_file(kind="document", display_name="plan secret", private=True)
    found = await service.find_files("plan", requester="U1", private_files_allowed=False)
    assert [f.file_id for f in found.files] == [public]
    assert search_bodies(wix)[-1]["private"] is False
    with pytest.raises(LinkOptionsError, match="private"):
        await service.find_files("plan", private=True, requester="U1", private_files_allowed=False)
    assert len(search_bodies(wix)) == 1


async def test_a_private_file_wix_sends_anyway_is_dropped(
    wix: FakeWix, service: LinkService
) -> None:
    secret = wix.add_file(kind="document", display_name="plan secret", private=True)
    descriptor = wix.descriptor(secret)
    wix.inject(
        "/files/search",
        status=200,
        body={"files": [descriptor], "nextCursor": {"cursors": {"next": None}}},
    )
    found = await service.find_files("plan", private_files_allowed=False)
    assert found.files == ()


async def test_an_admin_may_ask_for_private_files_only(wix: FakeWix, service: LinkService) -> None:
    wix.add_file(kind="document", display_name="plan public")
    secret = wix.add_file(kind="document", display_name="plan secret", private=True)
    found = await service.find_files("plan", private=True, requester="U1")
    assert [(f.file_id, f.private) for f in found.files] == [(secret, True)]
    assert found.files[0].thumbnail_url is None


async def test_a_search_counts_against_the_members_quota(
    wix: FakeWix, service: LinkService
) -> None:
    for _ in range(5):
        await service.find_files("anything", requester="U1")
    with pytest.raises(FileQuotaError):
        await service.find_files("anything", requester="U1")
    await service.find_files("anything", requester="U2")  # another member is not held back
    assert len(search_bodies(wix)) == 6


async def test_bad_search_options_are_refused_before_any_call(
    wix: FakeWix, service: LinkService
) -> None:
    with pytest.raises(LinkOptionsError, match="200"):
        await service.find_files("y" * 201)
    with pytest.raises(LinkOptionsError, match="type"):
        await service.find_files("y", media_types=[MediaType.UNKNOWN])
    with pytest.raises(LinkOptionsError, match="page"):
        await service.find_files("y", cursor="c" * 3000)
    with pytest.raises(LinkOptionsError):
        await service.find_files("y", limit=0)
    assert wix.requests == []


async def test_find_pages_through_the_cursor(wix: FakeWix, service: LinkService) -> None:
    ids = {wix.add_file(display_name=f"report {n}") for n in range(5)}
    first = await service.find_files("report", limit=3)
    assert first.next_cursor is not None
    second = await service.find_files("report", limit=3, cursor=first.next_cursor)
    assert second.next_cursor is None
    assert {f.file_id for f in first.files + second.files} == ids


async def test_stream_link_for_a_private_video_lasts_within_wix_bounds(
    wix: FakeWix, service: LinkService
) -> None:
    video = wix.add_file(kind="video", display_name="launch", private=True)
    link = await service.stream_link(video, requester="U1")  # rules' default: 60 minutes
    assert link.expires_at == NOW + timedelta(minutes=60)
    assert link.private
    assert link.name == "launch"
    assert link.format is StreamFormat.HLS
    longer = await service.stream_link(video, expires_in=timedelta(days=3))
    assert longer.expires_at == NOW + timedelta(minutes=1440)
    shorter = await service.stream_link(video, expires_in=timedelta(minutes=5))
    assert shorter.expires_at == NOW + timedelta(minutes=60)
    assert [s.expiration_minutes for s in wix.issued_streams] == [60, 1440, 60]
    assert "token=" in link.url
    assert link.url not in repr(link)


async def test_stream_link_for_a_public_video_does_not_expire(
    wix: FakeWix, service: LinkService
) -> None:
    video = wix.add_file(kind="video")
    link = await service.stream_link(video)
    assert link.expires_at is None
    [request] = wix.requests_to("generate-video-stream-url")
    assert request.json == {"fileId": video, "format": "HLS"}


async def test_stream_link_refusals_make_no_stream_call(wix: FakeWix, service: LinkService) -> None:
    image = wix.add_file(kind="image")
    secret = wix.add_file(kind="video", private=True)
    with pytest.raises(NotAVideoError):
        await service.stream_link(image)
    with pytest.raises(PrivateFileRefusedError):
        await service.stream_link(secret, private_files_allowed=False)
    assert wix.requests_to("generate-video-stream-url") == []


async def test_stream_link_needs_rules_that_allow_an_hour(
    wix: FakeWix, client: WixMediaClient
) -> None:
    short = LinkService(
        client, default_expiry=timedelta(minutes=10), max_expiry=timedelta(minutes=30)
    )
    video = wix.add_file(kind="video", private=True)
    with pytest.raises(LinkOptionsError, match="stream"):
        await short.stream_link(video)
    assert wix.requests == []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://static.wixstatic.com/media/abc_123~mv2.jpg", True),
        ("https://static.wixstatic.com/media/abc_123~mv2.jpg?token=secret", False),
        ("https://download-files.wixmp.com/media/abc_123~mv2.jpg", False),
        ("http://static.wixstatic.com/media/abc.jpg", False),
        ("https://static.wixstatic.com:8443/media/abc.jpg", False),
        ("https://user@static.wixstatic.com/media/abc.jpg", False),
        ("https://static.wixstatic.com/shapes/abc.svg", False),
        ("https://static.wixstatic.com/media/abc.jpg#x", False),
        ("https://static.wixstatic.com/media/" + "a" * 2000, False),
        ("", False),
        (None, False),
    ],
)
def test_only_plain_public_static_urls_are_thumbnails(url: str | None, shown: bool) -> None:
    assert (public_static_image_url(url) is not None) is shown
