"""Both Wix auth methods end to end against the loopback fake."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import httpx
import pytest
from pydantic import SecretStr

from bot.wix.auth import ApiKeyAuth, OAuthClientCredentials, WixAuth
from bot.wix.client import RetryPolicy
from bot.wix.errors import (
    AccessProblem,
    AuthenticationError,
    PermissionDeniedError,
    WixAPIError,
    WixResponseError,
    WixTimeoutError,
)
from tests.fakes.wix import FakeWix
from tests.wix.conftest import ClientFactory, FakeClock, RecordingSleep

GENERATE = "/generate-file-download-url"
TOKEN = "/oauth2/token"


def _oauth(
    fake_wix: FakeWix, *, secret: str = FakeWix.CLIENT_SECRET, **kwargs: str
) -> OAuthClientCredentials:
    return OAuthClientCredentials(
        kwargs.get("client_id", FakeWix.CLIENT_ID),
        SecretStr(secret),
        kwargs.get("instance_id", FakeWix.INSTANCE_ID),
        token_url=fake_wix.base_url + TOKEN,
    )


# -- API key -------------------------------------------------------------------------


async def test_api_key_is_sent_raw_with_the_site_id(
    fake_wix: FakeWix, make_client: ClientFactory, api_key_auth: ApiKeyAuth
) -> None:
    assert isinstance(api_key_auth, WixAuth)
    await make_client().generate_file_download_url(fake_wix.add_file())
    (request,) = fake_wix.requests
    assert request.headers["authorization"] == FakeWix.API_KEY
    assert request.headers["wix-site-id"] == FakeWix.SITE_ID


async def test_the_fake_refuses_a_bearer_api_key_and_a_missing_site_id(fake_wix: FakeWix) -> None:
    url = fake_wix.base_url + "/site-media/v1/files/get-file-by-id"
    file_id = fake_wix.add_file()
    async with httpx.AsyncClient() as http:
        bearer = await http.get(
            url,
            params={"fileId": file_id},
            headers={"Authorization": f"Bearer {FakeWix.API_KEY}", "wix-site-id": FakeWix.SITE_ID},
        )
        no_site = await http.get(
            url, params={"fileId": file_id}, headers={"Authorization": FakeWix.API_KEY}
        )
        other_site = await http.get(
            url,
            params={"fileId": file_id},
            headers={"Authorization": FakeWix.API_KEY, "wix-site-id": "another-site"},
        )
    assert (bearer.status_code, no_site.status_code, other_site.status_code) == (401, 401, 403)
    assert all(r.headers["x-wix-request-id"] for r in (bearer, no_site, other_site))
    assert bearer.json()["details"]["applicationError"]["code"] == "UNAUTHENTICATED"


async def test_a_rejected_api_key_is_not_retried(
    fake_wix: FakeWix, make_client: ClientFactory, fake_sleep: RecordingSleep
) -> None:
    client = make_client(ApiKeyAuth(SecretStr("IST.revoked"), FakeWix.SITE_ID))
    with pytest.raises(AuthenticationError) as caught:
        await client.get_file_descriptor(fake_wix.add_file())
    assert caught.value.status == 401
    assert len(fake_wix.requests) == 1
    assert fake_sleep.delays == []
    assert "IST.revoked" not in str(caught.value) + repr(caught.value)


async def test_a_wrong_site_id_is_permission_denied(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    client = make_client(ApiKeyAuth(SecretStr(FakeWix.API_KEY), "another-site"))
    with pytest.raises(PermissionDeniedError):
        await client.get_file_descriptor(fake_wix.add_file())


def test_api_key_repr_hides_the_key() -> None:
    auth = ApiKeyAuth("IST.very-secret", "site-1")
    assert "IST.very-secret" not in repr(auth)
    assert "site-1" in repr(auth)
    with pytest.raises(ValueError, match="empty"):
        ApiKeyAuth(SecretStr(" "), "site-1")


# -- OAuth client credentials ---------------------------------------------------------


async def test_oauth_token_is_fetched_and_sent_raw_without_site_id(
    fake_wix: FakeWix, make_client: ClientFactory, oauth: OAuthClientCredentials
) -> None:
    await make_client(oauth).generate_file_download_url(fake_wix.add_file())

    token_request, api_request = fake_wix.requests
    assert token_request.path == TOKEN
    assert token_request.json == {
        "grant_type": "client_credentials",
        "client_id": FakeWix.CLIENT_ID,
        "client_secret": FakeWix.CLIENT_SECRET,
        "instance_id": FakeWix.INSTANCE_ID,
    }
    assert token_request.headers["content-type"] == "application/json"
    assert api_request.headers["authorization"].startswith("OAUTH2.fake-")  # raw, like AppStrategy
    assert "wix-site-id" not in api_request.headers
    assert fake_wix.tokens_issued == 1


async def test_twenty_concurrent_calls_share_one_token_fetch(
    fake_wix: FakeWix, make_client: ClientFactory, oauth: OAuthClientCredentials
) -> None:
    ids = [fake_wix.add_file() for _ in range(20)]
    fake_wix.latency = 0.05  # the token fetch is slow enough for every call to queue on it
    client = make_client(oauth)

    await asyncio.gather(*(client.generate_file_download_url(i) for i in ids))

    assert fake_wix.tokens_issued == 1
    assert len(fake_wix.requests_to(TOKEN)) == 1
    assert len({r.headers["authorization"] for r in fake_wix.requests_to(GENERATE)}) == 1


async def test_token_is_refreshed_shortly_before_it_expires(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
    fake_clock: FakeClock,
) -> None:
    file_id = fake_wix.add_file()
    client = make_client(oauth)

    await client.get_file_descriptor(file_id)
    fake_clock.advance(3 * 3600)  # 1 h left: keep using it
    await client.get_file_descriptor(file_id)
    assert fake_wix.tokens_issued == 1

    fake_clock.advance(3600 - 200)  # 200 s left, under the 5 min margin: refresh first
    await client.get_file_descriptor(file_id)
    assert fake_wix.tokens_issued == 2
    first, second, third = (
        r.headers["authorization"] for r in fake_wix.requests_to("/get-file-by-id")
    )
    assert first == second != third
    assert oauth.tokens_fetched == 2


async def test_a_401_invalidates_the_token_and_retries_once(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
    fake_sleep: RecordingSleep,
) -> None:
    file_id = fake_wix.add_file()
    client = make_client(oauth)
    await client.generate_file_download_url(file_id)
    fake_wix.expire_tokens()  # Wix now answers 401 to the cached token

    urls = await client.generate_file_download_url(file_id)

    assert len(urls) == 1
    statuses = [r.status for r in fake_wix.requests_to(GENERATE)]
    assert statuses == [200, 401, 200]
    assert fake_wix.tokens_issued == 2
    assert fake_sleep.delays == [0.0]  # no backoff before re-authenticating


async def test_a_persistent_401_fails_after_one_fresh_token(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
) -> None:
    fake_wix.inject(GENERATE, status=401, times=5)
    with pytest.raises(AuthenticationError) as caught:
        await make_client(oauth).generate_file_download_url(fake_wix.add_file())
    assert caught.value.status == 401
    assert len(fake_wix.requests_to(GENERATE)) == 2
    assert fake_wix.tokens_issued == 2


async def test_a_401_on_the_last_attempt_still_surfaces_as_authentication_error(
    fake_wix: FakeWix, make_client: ClientFactory, oauth: OAuthClientCredentials
) -> None:
    fake_wix.inject(GENERATE, status=401)
    with pytest.raises(AuthenticationError):
        await make_client(oauth, retry=RetryPolicy(max_attempts=1)).generate_file_download_url(
            fake_wix.add_file()
        )


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "wording"),
    [
        ({"secret": "wrong-secret-123"}, 401, "invalid_client", "Invalid app id or app secret"),
        ({"client_id": "someone-else"}, 401, "invalid_client", "Invalid app id or app secret"),
        ({"instance_id": "other-instance"}, 400, "invalid_request", "Unknown app instance"),
    ],
)
async def test_token_endpoint_failure_is_an_authentication_error_without_the_secret(
    *,
    fake_wix: FakeWix,
    make_client: ClientFactory,
    fake_sleep: RecordingSleep,
    kwargs: dict[str, str],
    status: int,
    code: str,
    wording: str,
) -> None:
    auth = _oauth(fake_wix, **kwargs)
    with pytest.raises(AuthenticationError) as caught:
        await make_client(auth).generate_file_download_url(fake_wix.add_file())

    error = caught.value
    assert (error.status, error.code) == (status, code)
    assert wording in error.message
    assert error.request_id == fake_wix.requests_to(TOKEN)[0].request_id
    for text in (str(error), repr(error), repr(auth)):
        assert "wrong-secret-123" not in text
        assert FakeWix.CLIENT_SECRET not in text
    assert fake_wix.requests_to(GENERATE) == []
    assert fake_sleep.delays == []


async def test_a_token_endpoint_outage_is_retried_like_any_call(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
    fake_sleep: RecordingSleep,
) -> None:
    fake_wix.inject(TOKEN, status=503)
    await make_client(oauth).generate_file_download_url(fake_wix.add_file())
    assert [r.status for r in fake_wix.requests_to(TOKEN)] == [503, 200]
    assert len(fake_sleep.delays) == 1


async def test_a_token_answer_without_a_token_is_an_authentication_error(
    fake_wix: FakeWix, make_client: ClientFactory, oauth: OAuthClientCredentials
) -> None:
    fake_wix.inject(TOKEN, status=200, body={"token_type": "Bearer"})
    with pytest.raises(AuthenticationError, match="without an access token"):
        await make_client(oauth).get_file_descriptor(fake_wix.add_file())


def test_oauth_repr_hides_the_secret() -> None:
    auth = OAuthClientCredentials("app-id", "s3cr3t-value", "instance-1")
    assert "s3cr3t-value" not in repr(auth)
    assert "app-id" in repr(auth)


# -- refusals: typed for `check`, logged for the operator -----------------------------


async def test_refusals_say_which_setting_is_wrong(
    fake_wix: FakeWix, make_client: ClientFactory
) -> None:
    file_id = fake_wix.add_file()
    revoked = make_client(ApiKeyAuth(SecretStr("IST.revoked"), FakeWix.SITE_ID))
    other_site = make_client(ApiKeyAuth(SecretStr(FakeWix.API_KEY), "another-site"))
    with pytest.raises(AuthenticationError) as rejected:
        await revoked.get_file_descriptor(file_id)
    with pytest.raises(PermissionDeniedError) as wrong_site:
        await other_site.get_file_descriptor(file_id)
    fake_wix.key_permissions = "read"
    with pytest.raises(PermissionDeniedError) as read_only:
        await make_client().generate_file_download_url(file_id)

    assert rejected.value.access_problem is AccessProblem.CREDENTIALS_REJECTED
    assert wrong_site.value.access_problem is AccessProblem.WRONG_SITE
    assert read_only.value.access_problem is AccessProblem.MISSING_PERMISSION


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (403, None, AccessProblem.PERMISSION_OR_SITE),  # a bare PERMISSION_DENIED
        (428, {"message": "Couldn't extract metasiteId from the request context",
               "details": {"applicationError": {"code": "MISSING_METASITE_ID"}}},
         AccessProblem.WRONG_SITE),
        (401, None, AccessProblem.CREDENTIALS_REJECTED),
        (404, None, None),
        (400, None, None),
    ],
)  # fmt: skip
async def test_refusals_wix_does_not_explain_stay_ambiguous(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    status: int,
    body: object,
    problem: AccessProblem | None,
) -> None:
    fake_wix.inject(GENERATE, status=status, body=body)
    with pytest.raises(WixAPIError) as caught:
        await make_client().generate_file_download_url(fake_wix.add_file())
    assert caught.value.access_problem is problem


@pytest.mark.parametrize(
    ("site_id", "api_key", "permissions", "setting"),
    [
        (FakeWix.SITE_ID, "IST.revoked-key-123", "manage", "WIX_API_KEY"),
        ("another-site", FakeWix.API_KEY, "manage", "WIX_SITE_ID"),
        (FakeWix.SITE_ID, FakeWix.API_KEY, "read", "'Manage Media Manager' permission"),
    ],
)
async def test_a_refused_api_key_is_logged_at_error_with_the_request_id_and_the_fix(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
    site_id: str,
    api_key: str,
    permissions: Literal["manage", "read"],
    setting: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_wix.key_permissions = permissions
    client = make_client(ApiKeyAuth(SecretStr(api_key), site_id))
    with pytest.raises(WixAPIError):
        await client.generate_file_download_url(fake_wix.add_file())

    (request,) = fake_wix.requests_to(GENERATE)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert errors[0].name == "bot.wix.client"
    assert request.request_id in message
    assert setting in message
    assert api_key not in caplog.text


async def test_refused_app_credentials_are_logged_at_error_without_the_secret(
    fake_wix: FakeWix, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError):
        await make_client(_oauth(fake_wix, secret="wrong-secret-456")).get_file_descriptor("abc")
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert fake_wix.requests_to(TOKEN)[0].request_id in error.getMessage()
    assert "WIX_CLIENT_SECRET" in error.getMessage()
    assert "wrong-secret-456" not in caplog.text


async def test_a_401_cured_by_a_fresh_token_is_not_an_error(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(oauth)
    await client.get_file_descriptor(fake_wix.add_file())
    fake_wix.expire_tokens()
    caplog.set_level(logging.DEBUG)
    await client.get_file_descriptor(fake_wix.add_file())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_both_auth_methods_declare_whether_a_refresh_can_help() -> None:
    api_key: WixAuth = ApiKeyAuth("IST.k", "site-1")
    app: WixAuth = OAuthClientCredentials("app-id", "secret", "instance-1")
    assert (api_key.refreshable, app.refreshable) == (False, True)


# -- when the OAuth token is refreshed ------------------------------------------------


async def test_a_4_hour_token_is_reused_until_5_minutes_before_it_expires(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
    fake_clock: FakeClock,
) -> None:
    file_id = fake_wix.add_file()
    client = make_client(oauth)
    await client.get_file_descriptor(file_id)  # token obtained at t=0, lifetime 14400 s

    fake_clock.advance(14_400 - 300 - 1)  # 1 s before the refresh point
    await client.get_file_descriptor(file_id)
    assert fake_wix.tokens_issued == 1

    fake_clock.advance(2)  # 1 s past it
    await client.get_file_descriptor(file_id)
    assert fake_wix.tokens_issued == 2


async def test_a_10_minute_token_is_reused_until_a_tenth_of_its_life_is_left(
    fake_wix: FakeWix,
    make_client: ClientFactory,
    oauth: OAuthClientCredentials,
    fake_clock: FakeClock,
) -> None:
    fake_wix.token_lifetime = 600  # the margin is min(300 s, 10% of 600 s) = 60 s
    file_id = fake_wix.add_file()
    client = make_client(oauth)
    await client.get_file_descriptor(file_id)

    for step in (300, 100, 100, 39):  # t = 300, 400, 500, 539: before 600 - 60
        fake_clock.advance(step)
        await client.get_file_descriptor(file_id)
    assert fake_wix.tokens_issued == 1

    fake_clock.advance(2)  # t = 541, past 600 - 60
    await client.get_file_descriptor(file_id)
    assert fake_wix.tokens_issued == 2
    fake_clock.advance(500)  # the new token is reused too
    await client.get_file_descriptor(file_id)
    assert fake_wix.tokens_issued == 2
    tokens = [r.headers["authorization"] for r in fake_wix.requests_to("/get-file-by-id")]
    assert len(set(tokens[:5])) == 1
    assert tokens[5] == tokens[6] != tokens[0]


async def test_an_oversized_token_answer_is_refused(
    fake_wix: FakeWix, make_client: ClientFactory, oauth: OAuthClientCredentials
) -> None:
    fake_wix.inject(TOKEN, pad_bytes=2 * 1024 * 1024)
    with pytest.raises(WixResponseError, match="too large"):
        await make_client(oauth).get_file_descriptor(fake_wix.add_file())
    assert fake_wix.requests_to("/get-file-by-id") == []


async def test_a_token_answer_that_drips_in_is_cut_off_by_the_attempt_deadline(
    fake_wix: FakeWix, make_client: ClientFactory, oauth: OAuthClientCredentials
) -> None:
    fake_wix.inject(TOKEN, drip_interval=0.1, drip_chunk=4, pad_bytes=200)
    client = make_client(
        oauth, timeout=httpx.Timeout(1.0), retry=RetryPolicy(max_attempts=1, attempt_timeout=0.5)
    )
    with pytest.raises(WixTimeoutError):
        await client.get_file_descriptor(fake_wix.add_file())
    assert fake_wix.requests_to("/get-file-by-id") == []
