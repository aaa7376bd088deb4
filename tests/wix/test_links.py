"""The link service, through real HTTP against the loopback fake Wix."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from bot.wix.auth import ApiKeyAuth
from bot.wix.client import RetryPolicy, WixMediaClient
from bot.wix.errors import NotFoundError, PermissionDeniedError
from bot.wix.links import AssetLink, LinkOptions, LinkOptionsError, LinkService
from bot.wix.ratelimit import RateLimiter
from bot.wix.refs import MediaRef, MediaType, parse_media_refs
from tests.fakes.wix import FakeWix

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def wix() -> Iterator[FakeWix]:
    with FakeWix() as fake:
        yield fake


@pytest.fixture
async def service(wix: FakeWix) -> AsyncIterator[LinkService]:
    client = WixMediaClient(
        ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID),
        base_url=wix.base_url,
        retry=RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02),
    )
    yield LinkService(
        client,
        default_expiry=timedelta(minutes=60),
        max_expiry=timedelta(days=7),
        now=lambda: NOW,
    )
    await client.aclose()


def refs_for(*file_ids: str) -> tuple[MediaRef, ...]:
    return parse_media_refs("\n".join(file_ids)).refs


def sent_bodies(wix: FakeWix) -> list[dict[str, object]]:
    bodies = []
    for request in wix.requests_to("generate-file-download-url"):
        assert isinstance(request.json, dict)
        bodies.append(request.json)
    return bodies


async def test_twenty_files_cost_about_one_round_trip(wix: FakeWix, service: LinkService) -> None:
    ids = [wix.add_file(kind="image") for _ in range(20)]
    wix.latency = 0.3
    results = await service.generate(refs_for(*ids))
    assert [result.file_id for result in results] == ids
    assert all(result.ok for result in results)
    # One wave: 20 link calls and one bulk descriptor call, all in flight together.
    assert len(wix.requests_to("generate-file-download-url")) == 20
    assert len(wix.requests_to("get-files")) == 1
    assert wix.max_in_flight >= 20


async def test_default_expiry_and_original_are_used(wix: FakeWix, service: LinkService) -> None:
    file_id = wix.add_file(kind="document", display_name="contract.pdf", size=2048, private=True)
    [result] = await service.generate(refs_for(file_id))
    [sent] = sent_bodies(wix)
    assert sent["expirationInMinutes"] == 60
    assert sent.get("assetKeys", ["src"]) == ["src"]
    assert result.expires_at == NOW + timedelta(minutes=60)
    assert [link.asset_key for link in result.links] == ["src"]
    assert result.links[0].url.startswith("https://download-files.wixmp.com/")
    assert result.facts is not None
    assert result.facts.display_name == "contract.pdf"
    assert result.facts.size_bytes == 2048
    assert result.facts.private is True
    assert result.display_name == "contract.pdf"


async def test_options_reach_wix(wix: FakeWix, service: LinkService) -> None:
    file_id = wix.add_file(kind="image")
    options = LinkOptions(
        expires_in=timedelta(hours=2),
        redirect_url="https://example.com/expired",
        download_file_name="photo.jpg",
        inline=True,
    )
    [result] = await service.generate(refs_for(file_id), options)
    [sent] = sent_bodies(wix)
    assert sent["expirationInMinutes"] == 120
    assert sent["expirationRedirectUrl"] == "https://example.com/expired"
    assert sent["downloadFileName"] == "photo.jpg"
    assert sent["contentDisposition"] == "INLINE"
    assert result.expires_at == NOW + timedelta(hours=2)


async def test_configured_redirect_is_the_default(wix: FakeWix, service: LinkService) -> None:
    service.default_redirect_url = "https://example.com/gone"
    await service.generate(refs_for(wix.add_file(kind="image")))
    [sent] = sent_bodies(wix)
    assert sent["expirationRedirectUrl"] == "https://example.com/gone"


@pytest.mark.parametrize(
    ("expires_in", "message"),
    [
        (timedelta(days=8), "at most 7 days"),
        (timedelta(seconds=10), "at least 1 minute"),
    ],
)
async def test_expiry_outside_the_bounds_is_refused_before_any_wix_call(
    wix: FakeWix, service: LinkService, expires_in: timedelta, message: str
) -> None:
    file_id = wix.add_file(kind="image")
    with pytest.raises(LinkOptionsError, match=message):
        await service.generate(refs_for(file_id), LinkOptions(expires_in=expires_in))
    assert wix.requests == []


async def test_renditions_come_from_the_descriptor_and_can_be_asked_for(
    wix: FakeWix, service: LinkService
) -> None:
    video = wix.add_file(kind="video", display_name="launch.mp4")
    [first] = await service.generate(refs_for(video))
    assert first.facts is not None
    assert first.facts.media_type is MediaType.VIDEO
    renditions = first.facts.renditions
    assert renditions, "the fake's video has renditions"
    keys = ("src", renditions[0])
    [second] = await service.generate(refs_for(video), LinkOptions(asset_keys=keys))
    assert [link.asset_key for link in second.links] == list(keys)
    assert second.invalid_asset_keys == ()


async def test_unknown_rendition_falls_back_to_the_original(
    wix: FakeWix, service: LinkService
) -> None:
    image = wix.add_file(kind="image")
    [result] = await service.generate(refs_for(image), LinkOptions(asset_keys=("1080p.mp4",)))
    assert result.ok
    assert result.invalid_asset_keys == ("1080p.mp4",)
    assert [link.asset_key for link in result.links] == ["src"]
    assert result.fell_back_to_original


async def test_mixed_renditions_keep_the_good_ones(wix: FakeWix, service: LinkService) -> None:
    video = wix.add_file(kind="video")
    [probe] = await service.generate(refs_for(video))
    assert probe.facts is not None
    good = probe.facts.renditions[0]
    [result] = await service.generate(refs_for(video), LinkOptions(asset_keys=(good, "bogus.mp4")))
    assert [link.asset_key for link in result.links] == [good]
    assert result.invalid_asset_keys == ("bogus.mp4",)
    assert not result.fell_back_to_original


async def test_an_unknown_file_fails_alone(wix: FakeWix, service: LinkService) -> None:
    known = [wix.add_file(kind="image", display_name=f"photo-{i}.jpg") for i in range(3)]
    missing = "abcdef_0123456789abcdef0123456789abcdef~mv2.jpg"
    results = await service.generate(refs_for(known[0], missing, known[1], known[2]))
    assert [result.file_id for result in results] == [known[0], missing, known[1], known[2]]
    assert isinstance(results[1].error, NotFoundError)
    assert not results[1].ok
    for result in (results[0], results[2], results[3]):
        assert result.ok
        assert result.facts is not None, "facts still arrive for the files that exist"
        assert result.display_name.startswith("photo-")


async def test_a_read_only_key_reports_the_missing_permission(
    wix: FakeWix, service: LinkService
) -> None:
    wix.key_permissions = "read"
    [result] = await service.generate(refs_for(wix.add_file(kind="image")))
    assert isinstance(result.error, PermissionDeniedError)
    assert result.links == ()


async def test_the_same_file_twice_is_asked_for_once(wix: FakeWix, service: LinkService) -> None:
    file_id = wix.add_file(kind="image")
    ref = refs_for(file_id)[0]
    results = await service.generate([ref, ref])
    assert len(results) == 1
    assert len(wix.requests_to("generate-file-download-url")) == 1


async def test_no_refs_makes_no_call(wix: FakeWix, service: LinkService) -> None:
    assert await service.generate([]) == []
    assert wix.requests == []


def test_signed_urls_stay_out_of_reprs() -> None:
    link = AssetLink(asset_key="src", url="https://download-files.wixmp.com/media/x?token=secret")
    assert "secret" not in repr(link)


async def test_results_keep_the_order_of_first_mention(wix: FakeWix, service: LinkService) -> None:
    first, second = (wix.add_file(kind="image") for _ in range(2))
    a, b = refs_for(first, second)
    results = await service.generate([a, b, a])
    assert [result.file_id for result in results] == [first, second]


def test_a_pasted_signed_link_stays_out_of_reprs() -> None:
    [ref] = parse_media_refs(
        "https://download-files.wixmp.com/ugd/36e0da_671cc93711c54abb91a25823df0aa548.pdf"
        "?token=eyJsecretJWT"
    ).refs
    assert "eyJsecretJWT" not in repr(ref)


# -- cost: bad rendition keys are caught by the descriptor, not by one call per key -----


@pytest.fixture
async def unthrottled(wix: FakeWix) -> AsyncIterator[LinkService]:
    """A service whose rate limiter never waits, so call counts are all that is measured."""
    client = WixMediaClient(
        ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID),
        base_url=wix.base_url,
        retry=RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02),
        limiter=RateLimiter(100_000, 60.0),
    )
    yield LinkService(client, now=lambda: NOW)
    await client.aclose()


async def test_fifty_files_with_twenty_missing_renditions_cost_one_call_each(
    wix: FakeWix, unthrottled: LinkService
) -> None:
    files = [wix.add_file(kind="video") for _ in range(50)]
    bogus = tuple(f"{n}p.webm" for n in range(20))
    results = await unthrottled.generate(refs_for(*files), LinkOptions(asset_keys=bogus))
    assert len(wix.requests_to("get-files")) == 1
    assert len(wix.requests_to("generate-file-download-url")) == 50
    for result in results:
        assert result.ok
        assert result.invalid_asset_keys == bogus
        assert result.fell_back_to_original
    # No key the descriptor lacks was ever sent.
    assert all(body.get("assetKeys") == ["src"] for body in sent_bodies(wix))


async def test_a_listed_key_wix_refuses_falls_back_to_the_original_with_one_more_call(
    wix: FakeWix, service: LinkService
) -> None:
    video = wix.add_file(kind="video", private=True, unavailable=("144p.mp4",))
    keys = ("720p.mp4", "144p.mp4")
    [result] = await service.generate(refs_for(video), LinkOptions(asset_keys=keys))
    assert result.facts is not None
    assert "144p.mp4" in result.facts.renditions  # the descriptor listed it
    assert [body.get("assetKeys") for body in sent_bodies(wix)] == [list(keys), ["src"]]
    assert [link.asset_key for link in result.links] == ["src"]
    assert result.invalid_asset_keys == keys  # Wix does not say which one it refused
    assert result.fell_back_to_original


async def test_without_descriptors_keys_are_sent_as_asked_then_the_original_once(
    wix: FakeWix, service: LinkService
) -> None:
    files = [wix.add_file(kind="video") for _ in range(3)]
    wix.inject("get-files", status=500, times=2)  # both attempts fail
    keys = ("720p.mp4", "2160p.mp4")
    results = await service.generate(refs_for(*files), LinkOptions(asset_keys=keys))
    assert len(wix.requests_to("generate-file-download-url")) == 3 * 2
    for result in results:
        assert result.ok
        assert result.facts is None
        assert result.invalid_asset_keys == keys
        assert [link.asset_key for link in result.links] == ["src"]


async def test_an_unknown_file_among_renditions_costs_a_bounded_number_of_calls(
    wix: FakeWix, service: LinkService
) -> None:
    known = [wix.add_file(kind="video", display_name=f"clip-{i}.mp4") for i in range(3)]
    missing = "abcdef_0123456789abcdef0123456789abcdef"
    keys = ("720p.mp4", "bogus.mp4")
    results = await service.generate(
        refs_for(known[0], missing, known[1], known[2]), LinkOptions(asset_keys=keys)
    )
    assert isinstance(results[1].error, NotFoundError)
    # The bulk descriptor call fails whole for one unknown ID: asked again once, for the
    # files that exist; each file then costs at most its call and one fallback.
    assert len(wix.requests_to("get-files")) == 2
    assert len(wix.requests_to("generate-file-download-url")) <= 2 * 4
    for result in (results[0], results[2], results[3]):
        assert result.ok
        assert result.display_name.startswith("clip-")
        assert [link.asset_key for link in result.links] == ["src"]


async def test_more_than_a_hundred_files_take_one_descriptor_call_per_hundred(
    wix: FakeWix, unthrottled: LinkService
) -> None:
    files = [wix.add_file(kind="image") for _ in range(150)]
    refs = parse_media_refs("\n".join(files), max_refs=150).refs
    results = await unthrottled.generate(refs, LinkOptions(asset_keys=("720p.mp4",)))
    assert len(results) == 150
    assert len(wix.requests_to("get-files")) == 2
    assert len(wix.requests_to("generate-file-download-url")) == 150
    assert all(result.fell_back_to_original for result in results)
