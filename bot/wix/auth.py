"""The two ways to authenticate to Wix's REST API: a site owner's API key, or an app's
OAuth client credentials. Both produce request headers; neither ever shows a secret in
its ``repr()``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

import httpx
from pydantic import SecretStr

from bot.wix.answers import decode_json, read_body
from bot.wix.errors import (
    REQUEST_ID_HEADER,
    AccessProblem,
    AuthenticationError,
    error_from_response,
)
from bot.wix.limits import DEFAULT_BASE_URL, PATH_OAUTH_TOKEN

logger = logging.getLogger("bot.wix.auth")

DEFAULT_TOKEN_URL: Final = DEFAULT_BASE_URL + PATH_OAUTH_TOKEN
# "expires_in: Always 14400 (4 hours)" (docs/wix.md, OAuth client credentials); used if
# the answer omits it.
DEFAULT_TOKEN_LIFETIME: Final = 14_400.0
# Refresh a token once less than this much of its life is left (5 min, or 10% of the
# lifetime for short-lived tokens), so no request leaves with a token about to expire.
REFRESH_MARGIN: Final = 300.0
REFRESH_FRACTION: Final = 0.1


@runtime_checkable
class WixAuth(Protocol):
    """Something that knows which headers authenticate a request to Wix."""

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        """Headers for the next request; may fetch a token with ``http``."""
        ...

    def invalidate(self) -> None:
        """Forget cached credentials; the client calls this once after a 401."""
        ...

    @property
    def refreshable(self) -> bool:
        """Whether fresh credentials may cure a 401 (worth one ``invalidate()`` and retry)."""
        ...

    def settings_to_fix(self, problem: AccessProblem) -> str:
        """Which settings an operator should check when Wix refuses these credentials."""
        ...


class ApiKeyAuth:
    """A site owner's API key (``IST.…``) plus the site it acts on.

    Wix wants the key RAW in ``Authorization`` — no ``Bearer`` prefix — and the site in
    ``wix-site-id`` (docs/wix.md, Authentication; Wix SDK ``ApiKeyStrategy``). Keys don't expire, so
    there is nothing to refresh.
    """

    refreshable: Final = False

    def __init__(self, api_key: SecretStr | str, site_id: str) -> None:
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        if not self._api_key.get_secret_value().strip():
            raise ValueError("the Wix API key is empty")
        if not site_id.strip():
            raise ValueError("the Wix site id is empty")
        self.site_id = site_id.strip()

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        return {"Authorization": self._api_key.get_secret_value(), "wix-site-id": self.site_id}

    def invalidate(self) -> None:
        """Nothing cached: an API key is rejected or accepted as it is."""

    def settings_to_fix(self, problem: AccessProblem) -> str:
        if problem is AccessProblem.CREDENTIALS_REJECTED:
            return "check WIX_API_KEY: the key is wrong, revoked, or from another Wix account"
        if problem is AccessProblem.MISSING_PERMISSION:
            return "give the WIX_API_KEY key the 'Manage Media Manager' permission"
        if problem is AccessProblem.WRONG_SITE:
            return "check WIX_SITE_ID: it must be a site of the account that made WIX_API_KEY"
        return (
            "check that the WIX_API_KEY key has the 'Manage Media Manager' permission"
            " and that WIX_SITE_ID is a site of the account that made it"
        )

    def __repr__(self) -> str:
        return f"ApiKeyAuth(api_key=SecretStr('**********'), site_id={self.site_id!r})"


@dataclass(frozen=True)
class _Token:
    value: SecretStr
    fresh_until: float  # by the credentials' clock: refresh from then on

    def fresh(self, now: float) -> bool:
        return now < self.fresh_until


class TokenCache(Protocol):
    """Where several replicas share one access token (``bot/shared/tokens.py``, Redis)."""

    async def token(
        self,
        fetch: Callable[[], Awaitable[tuple[SecretStr, float]]],
        *,
        rejected: SecretStr | None,
    ) -> tuple[SecretStr, float]:
        """The shared token and how many seconds it stays fresh; ``fetch()`` (which
        returns the same) is called by one replica at a time when none is cached. A
        cached token equal to ``rejected`` (Wix refused it) is not used again."""
        ...


class OAuthClientCredentials:
    """A Wix app's client credentials for one instance (docs/wix.md, OAuth client credentials).

    ``POST {token_url}`` with ``{grant_type: client_credentials, client_id, client_secret,
    instance_id}`` returns ``{access_token, token_type, expires_in}``. The token is cached
    and refreshed shortly before it expires; concurrent callers share one fetch, and
    with a ``shared`` cache every replica shares one fetch per token lifetime.
    """

    refreshable: Final = True

    def __init__(
        self,
        client_id: str,
        client_secret: SecretStr | str,
        instance_id: str,
        *,
        token_url: str = DEFAULT_TOKEN_URL,
        clock: Callable[[], float] = time.monotonic,
        shared: TokenCache | None = None,
    ) -> None:
        if not client_id.strip() or not instance_id.strip():
            raise ValueError("the Wix app id and instance id must not be empty")
        self.client_id = client_id.strip()
        self._client_secret = (
            client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        )
        if not self._client_secret.get_secret_value():
            raise ValueError("the Wix app secret is empty")
        self.instance_id = instance_id.strip()
        self.token_url = token_url
        self._clock = clock
        self._token: _Token | None = None
        self._rejected: SecretStr | None = None  # the token Wix last answered 401 to
        self._lock = asyncio.Lock()
        self._shared = shared
        self.tokens_fetched = 0

    async def headers(self, http: httpx.AsyncClient) -> dict[str, str]:
        token = self._token
        if token is None or not token.fresh(self._clock()):
            async with self._lock:  # single flight: waiters reuse the token just fetched
                token = self._token
                if token is None or not token.fresh(self._clock()):
                    token = await self._new_token(http)
                    self._token = token
        # Sent raw, like the Wix SDK's AppStrategy does; Wix's OAuth docs call it a Bearer
        # token and Wix's own code uses both forms (docs/wix.md, OAuth client credentials).
        # No wix-site-id: the token already names the app instance (adding it is
        # UNCONFIRMED to be harmless).
        return {"Authorization": token.value.get_secret_value()}

    def invalidate(self) -> None:
        if self._token is not None:
            self._rejected = self._token.value
        self._token = None

    async def _new_token(self, http: httpx.AsyncClient) -> _Token:
        if self._shared is None:
            self._rejected = None
            return await self._fetch(http)

        async def fetch() -> tuple[SecretStr, float]:
            token = await self._fetch(http)
            return token.value, token.fresh_until - self._clock()

        value, fresh_for = await self._shared.token(fetch, rejected=self._rejected)
        self._rejected = None
        return _Token(value, fresh_until=self._clock() + fresh_for)

    def settings_to_fix(self, problem: AccessProblem) -> str:
        if problem is AccessProblem.CREDENTIALS_REJECTED:
            return "check WIX_CLIENT_ID, WIX_CLIENT_SECRET and WIX_INSTANCE_ID"
        return (
            "give the Wix app the 'Manage Media Manager' permission and check that"
            " WIX_INSTANCE_ID is its installation on the right site"
        )

    async def _fetch(self, http: httpx.AsyncClient) -> _Token:
        started = self._clock()
        async with http.stream(
            "POST",
            self.token_url,
            json={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret.get_secret_value(),
                "instance_id": self.instance_id,
            },
            headers={"Accept": "application/json"},
        ) as response:
            body = decode_json(await read_body(response, f"POST {PATH_OAUTH_TOKEN}"))
        request_id = response.headers.get(REQUEST_ID_HEADER)
        logger.debug("wix oauth token -> %s (request id %s)", response.status_code, request_id)
        if response.status_code >= 400:
            error = error_from_response(response.status_code, body, response.headers)
            if response.status_code == 429 or response.status_code >= 500:
                raise error  # transient: the client's retry policy handles it
            raise AuthenticationError(
                f"Wix refused the app credentials: {error.message}",
                status=error.status,
                code=error.code,
                description=error.description,
                field_violations=error.field_violations,
                request_id=error.request_id,
                body=error.body,
            )
        access_token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise AuthenticationError(
                "Wix's token endpoint answered without an access token",
                status=response.status_code,
                request_id=request_id,
            )
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        lifetime = (
            float(expires_in)
            if isinstance(expires_in, int | float)
            and not isinstance(expires_in, bool)
            and expires_in > 0
            else DEFAULT_TOKEN_LIFETIME
        )
        self.tokens_fetched += 1
        margin = min(REFRESH_MARGIN, REFRESH_FRACTION * lifetime)
        return _Token(SecretStr(access_token), fresh_until=started + lifetime - margin)

    def __repr__(self) -> str:
        return (
            f"OAuthClientCredentials(client_id={self.client_id!r}, "
            f"client_secret=SecretStr('**********'), instance_id={self.instance_id!r}, "
            f"token_url={self.token_url!r})"
        )
