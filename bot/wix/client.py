"""Async client for the four Wix Media Manager calls MediaLink needs (contract §3).

All HTTP goes through ``WixMediaClient._request``, the one place that decides about
retries (429, 5xx, timeouts, dropped connections; never other 4xx), waits (``Retry-After``
honoured up to a cap, otherwise exponential backoff with full jitter), the rate limit,
the concurrency bound, re-authentication after a 401, logging and error mapping.

Logs name the method, path, status, attempt, ``x-wix-request-id`` and timing. They never
contain headers, credentials, query strings or response bodies (which hold signed URLs).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self, TypeVar

import aiohttp
import httpx
from httpx_aiohttp import HttpxAiohttpClient
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from bot.wix.auth import WixAuth
from bot.wix.errors import (
    REQUEST_ID_HEADER,
    AuthenticationError,
    InternalServerError,
    RateLimitError,
    WixAPIError,
    WixConnectionError,
    WixError,
    WixResponseError,
    WixTimeoutError,
    error_from_response,
)
from bot.wix.models import (
    MAX_ASSET_KEY_LENGTH,
    MAX_ASSET_KEYS,
    MAX_DOWNLOAD_FILE_NAME_LENGTH,
    MAX_EXPIRATION_MINUTES,
    MAX_FILE_ID_LENGTH,
    MAX_GET_FILES_IDS,
    MAX_ZIP_FILE_IDS,
    ContentDisposition,
    DownloadUrl,
    FileDescriptor,
    GenerateFileDownloadUrlRequest,
    GenerateFileDownloadUrlResponse,
    GenerateFilesDownloadUrlResponse,
    GetFileDescriptorResponse,
    GetFileDescriptorsResponse,
)
from bot.wix.ratelimit import DEFAULT_LIMIT, RateLimiter

logger = logging.getLogger("bot.wix.client")

DEFAULT_BASE_URL: Final = "https://www.wixapis.com"
# Short connect timeout: an unreachable host should fail fast and be retried; a slow
# answer gets longer.
DEFAULT_TIMEOUT: Final = httpx.Timeout(15.0, connect=3.0)
# Calls in flight at once (and pooled connections). As many as the rate limiter lets
# through in a window, so a burst it admits goes out in one wave: at 64, a burst of 50
# one-file commands (100 calls) waited a second Wix round trip for a third of its
# replies (benchmarks/README.md).
DEFAULT_MAX_CONCURRENCY: Final = DEFAULT_LIMIT

PATH_GENERATE_FILE_DOWNLOAD_URL: Final = "/site-media/v1/files/generate-file-download-url"
PATH_GENERATE_FILES_DOWNLOAD_URL: Final = "/site-media/v1/files/generate-download-url"
PATH_GET_FILE: Final = "/site-media/v1/files/get-file-by-id"
PATH_GET_FILES: Final = "/site-media/v1/files/get-files"
PATH_OAUTH_TOKEN: Final = "/oauth2/token"  # noqa: S105 - a path

_ModelT = TypeVar("_ModelT", bound=BaseModel)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry. The defaults keep one call under ``total_timeout``."""

    max_attempts: int = 4  # first try included
    initial_delay: float = 0.5  # backoff cap for the first retry; doubles each time
    max_delay: float = 8.0  # backoff cap
    max_retry_after: float = 30.0  # longest server-requested wait we honour
    total_timeout: float = 45.0  # no retry starts if it would end after this

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.initial_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("retry delays must not be negative")
        if self.total_timeout <= 0:
            raise ValueError("total_timeout must be positive")

    def backoff_cap(self, retry_number: int) -> float:
        """Upper bound of the jittered wait before retry number ``retry_number`` (1-based)."""
        return min(self.max_delay, self.initial_delay * 2.0 ** max(0, retry_number - 1))


@dataclass
class ClientStats:
    """Counters for benchmarks and health checks."""

    calls: int = 0  # API calls made (each may take several attempts)
    attempts: int = 0  # HTTP attempts sent
    retries: int = 0  # attempts that were retries
    in_flight: int = 0
    max_in_flight: int = 0


class _StaleCredentials(Exception):
    """A 401 after which fresh credentials are worth one more try."""

    def __init__(self, error: AuthenticationError) -> None:
        super().__init__(error.message)
        self.error = error


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _StaleCredentials | WixConnectionError | RateLimitError):
        return True
    # 501 Not Implemented will not change on a retry; other 5xx are "try again later".
    return isinstance(exc, InternalServerError) and exc.status != 501


def _describe(exc: BaseException | None) -> str:
    """A log-safe description of why an attempt failed (no URLs, no bodies)."""
    if isinstance(exc, _StaleCredentials):
        return "HTTP 401, refreshing credentials"
    if isinstance(exc, WixAPIError):
        return f"HTTP {exc.status} (request id {exc.request_id})"
    if isinstance(exc, WixError) and exc.__cause__ is not None:
        return type(exc.__cause__).__name__
    return type(exc).__name__


class WixMediaClient:
    """Wix Media Manager calls: signed download URLs, zip URLs and file descriptors.

    Constructing the client does no I/O. Without ``http`` the client creates (lazily)
    and owns an ``httpx.AsyncClient``, closed by ``aclose()``; an injected one is left
    open. ``timeout`` applies to every request either way.
    """

    def __init__(
        self,
        auth: WixAuth,
        *,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),  # frozen, so safe to share as a default
        limiter: RateLimiter | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._auth = auth
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._owns_http = http is None
        self._closed = False
        self._timeout = timeout
        self.retry = retry
        self._limiter = limiter if limiter is not None else RateLimiter()
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter  # returns [0, 1); injectable so tests can pin the backoff
        self._refreshable = bool(getattr(auth, "refreshable", True))
        self.stats = ClientStats()

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    # -- the four calls -------------------------------------------------------------

    async def generate_file_download_url(
        self,
        file_id: str,
        *,
        asset_keys: Sequence[str] | None = None,
        expiration_minutes: int | None = None,
        redirect_url: str | None = None,
        download_file_name: str | None = None,
        content_disposition: ContentDisposition | None = None,
    ) -> list[DownloadUrl]:
        """Temporary signed URLs for one file, one per asset key (default: ``src``).

        Raises ``InvalidAssetKeyError`` (carrying ``asset_keys``) when Wix rejects a key.
        The answer has no expiry: it is ``expiration_minutes`` (Wix default 600) from now.
        """
        _check_file_id(file_id)
        keys: list[str] | None = None
        if asset_keys is not None:
            if isinstance(asset_keys, str):
                raise TypeError("asset_keys must be a sequence of keys, not one string")
            keys = list(asset_keys)
            if not keys or len(keys) > MAX_ASSET_KEYS:
                raise ValueError(
                    f"asset_keys must hold 1..{MAX_ASSET_KEYS} keys (None means 'src'), "
                    f"not {len(keys)}"
                )
            for key in keys:
                if not key or len(key) > MAX_ASSET_KEY_LENGTH:
                    raise ValueError(
                        f"each asset key must be 1..{MAX_ASSET_KEY_LENGTH} characters: {key!r}"
                    )
        if expiration_minutes is not None and (
            isinstance(expiration_minutes, bool)
            or not isinstance(expiration_minutes, int)
            or not 1 <= expiration_minutes <= MAX_EXPIRATION_MINUTES
        ):
            raise ValueError(
                f"expiration_minutes must be a whole number from 1 to {MAX_EXPIRATION_MINUTES}"
                f" (one year), not {expiration_minutes!r}"
            )
        if download_file_name is not None and not (
            0 < len(download_file_name) <= MAX_DOWNLOAD_FILE_NAME_LENGTH
        ):
            raise ValueError(
                f"download_file_name must be 1..{MAX_DOWNLOAD_FILE_NAME_LENGTH} characters,"
                f" not {len(download_file_name)}"
            )
        body = GenerateFileDownloadUrlRequest(
            file_id=file_id,
            asset_keys=keys,
            expiration_in_minutes=expiration_minutes,
            expiration_redirect_url=redirect_url,
            download_file_name=download_file_name,
            content_disposition=content_disposition,
        ).to_json()
        data = await self._request(
            "POST", PATH_GENERATE_FILE_DOWNLOAD_URL, json=body, asset_keys=tuple(keys or ())
        )
        return _parse(GenerateFileDownloadUrlResponse, data).download_urls

    async def get_file_descriptor(self, file_id: str) -> FileDescriptor:
        """One file's descriptor (``GET …/get-file-by-id?fileId=``)."""
        _check_file_id(file_id)
        data = await self._request("GET", PATH_GET_FILE, params={"fileId": file_id})
        return _parse(GetFileDescriptorResponse, data).file

    async def get_file_descriptors(self, file_ids: Sequence[str]) -> list[FileDescriptor]:
        """Descriptors for many files, in chunks of 100 fetched concurrently, in order."""
        if isinstance(file_ids, str):
            raise TypeError("file_ids must be a sequence of ids, not one string")
        ids = list(file_ids)
        for file_id in ids:
            _check_file_id(file_id)
        chunks = [ids[i : i + MAX_GET_FILES_IDS] for i in range(0, len(ids), MAX_GET_FILES_IDS)]
        tasks = [asyncio.ensure_future(self._get_files_chunk(chunk)) for chunk in chunks]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [descriptor for chunk in results for descriptor in chunk]

    async def generate_files_download_url(self, file_ids: Sequence[str]) -> str:
        """A PERMANENT zip URL for up to 1000 files. Not for private files (contract §3.2)."""
        if isinstance(file_ids, str):
            raise TypeError("file_ids must be a sequence of ids, not one string")
        ids = list(file_ids)
        if not 1 <= len(ids) <= MAX_ZIP_FILE_IDS:
            raise ValueError(f"file_ids must hold 1..{MAX_ZIP_FILE_IDS} ids, not {len(ids)}")
        for file_id in ids:
            _check_file_id(file_id)
        data = await self._request("POST", PATH_GENERATE_FILES_DOWNLOAD_URL, json={"fileIds": ids})
        return _parse(GenerateFilesDownloadUrlResponse, data).download_url

    async def _get_files_chunk(self, ids: list[str]) -> list[FileDescriptor]:
        data = await self._request("POST", PATH_GET_FILES, json={"fileIds": ids})
        return _parse(GetFileDescriptorsResponse, data).files

    # -- lifecycle ------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it. Idempotent."""
        self._closed = True
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"WixMediaClient(base_url={self.base_url!r}, auth={self._auth!r})"

    # -- the one place that talks HTTP ---------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("this WixMediaClient is closed")
        if self._http is None:
            # httpx's API over aiohttp's connection pool: httpcore's pool bookkeeping
            # grows with the number of pooled connections and dominated the CPU of a
            # 20-file fan-out (benchmarks/README.md, "Before and after").
            self._http = HttpxAiohttpClient(
                verify=_default_ssl_context(),
                timeout=self._timeout,
                limits=httpx.Limits(max_connections=self.max_concurrency),
                headers={"User-Agent": "medialink"},
            )
        return self._http

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        asset_keys: tuple[str, ...] = (),
    ) -> Mapping[str, object]:
        """Send one API call with the retry policy; return the decoded JSON object."""
        policy = self.retry
        started = self._clock()
        # Time queued here (the concurrency bound, the rate limiter) is not time spent on
        # Wix: the total budget starts when the first attempt is let through, so a call
        # that waited for the limiter is not then sent with no time left.
        budget_start: list[float] = []
        self.stats.calls += 1

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _StaleCredentials):
                return 0.0
            if isinstance(exc, WixAPIError) and exc.retry_after is not None:
                return min(exc.retry_after, policy.max_retry_after)
            # Full jitter: uniform in [0, cap) so clients that failed together spread out.
            return self._jitter() * policy.backoff_cap(state.attempt_number)

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= policy.max_attempts:
                return True
            elapsed = self._clock() - (budget_start[0] if budget_start else started)
            return elapsed + state.upcoming_sleep > policy.total_timeout

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            self.stats.retries += 1
            logger.info(
                "wix %s %s: attempt %d/%d failed (%s); retrying in %.2fs",
                method,
                path,
                state.attempt_number,
                policy.max_attempts,
                _describe(exc),
                delay,
            )

        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop,
            wait=wait,
            retry=retry_if_exception(_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        refreshed = False
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    try:
                        return await self._attempt(
                            method=method,
                            path=path,
                            params=params,
                            json=json,
                            asset_keys=asset_keys,
                            number=attempts,
                            budget_start=budget_start,
                            can_refresh=self._refreshable and not refreshed,
                        )
                    except _StaleCredentials:
                        refreshed = True
                        self._auth.invalidate()
                        raise
        except _StaleCredentials as exc:  # attempts ran out right after the refresh
            raise exc.error from None
        except WixError as exc:
            if _retryable(exc):
                logger.warning(
                    "wix %s %s: giving up after %d attempt(s), %.2fs (%s)",
                    method,
                    path,
                    attempts,
                    self._clock() - started,
                    _describe(exc),
                )
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _attempt(
        self,
        *,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: object,
        asset_keys: tuple[str, ...],
        number: int,
        budget_start: list[float],
        can_refresh: bool,
    ) -> Mapping[str, object]:
        http = self._client()
        # The limiter first: it serves requesters round-robin, and a semaphore taken
        # before it would queue everyone behind a flood in arrival order.
        async with self._limiter.slot(), self._semaphore:
            if not budget_start:
                budget_start.append(self._clock())
            self.stats.attempts += 1
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            sent = self._clock()
            try:
                headers = {"Accept": "application/json", **await self._auth.headers(http)}
                response = await http.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    headers=headers,
                    timeout=self._attempt_timeout(budget_start[0]),
                )
            except httpx.TimeoutException as exc:
                if not _was_disconnected(exc):
                    logger.debug("wix %s %s: attempt %d timed out", method, path, number)
                    raise WixTimeoutError(f"Wix did not answer in time ({method} {path})") from exc
                logger.debug("wix %s %s: attempt %d: connection lost", method, path, number)
                raise WixConnectionError(
                    f"Could not reach Wix ({method} {path}): connection lost"
                ) from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
                logger.debug(
                    "wix %s %s: attempt %d failed: %s", method, path, number, type(exc).__name__
                )
                raise WixConnectionError(
                    f"Could not reach Wix ({method} {path}): {type(exc).__name__}"
                ) from exc
            except httpx.HTTPError as exc:  # not transient (e.g. a malformed URL): no retry
                raise WixError(
                    f"HTTP error calling Wix ({method} {path}): {type(exc).__name__}"
                ) from exc
            finally:
                self.stats.in_flight -= 1
        request_id = response.headers.get(REQUEST_ID_HEADER)
        logger.debug(
            "wix %s %s -> %d (attempt %d, request id %s, %.0f ms)",
            method,
            path,
            response.status_code,
            number,
            request_id,
            (self._clock() - sent) * 1000,
        )
        try:
            data: object = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            error = error_from_response(response.status_code, data, response.headers, asset_keys)
            if can_refresh and isinstance(error, AuthenticationError):
                # Credentials may have expired early or been revoked: one retry, fresh token.
                raise _StaleCredentials(error)
            raise error
        if not isinstance(data, dict):
            raise WixResponseError(
                f"Wix answered {method} {path} with HTTP {response.status_code} but no JSON"
                f" object (request id {request_id})"
            )
        return data

    def _attempt_timeout(self, call_started: float) -> httpx.Timeout:
        """The configured timeout, shortened so an attempt can't outlive the call's budget."""
        remaining = max(0.001, self.retry.total_timeout - (self._clock() - call_started))
        t = self._timeout

        def cap(value: float | None) -> float:
            return remaining if value is None else min(value, remaining)

        return httpx.Timeout(
            connect=cap(t.connect), read=cap(t.read), write=cap(t.write), pool=cap(t.pool)
        )


def _was_disconnected(exc: httpx.TimeoutException) -> bool:
    """True when a "timeout" was really a dropped connection.

    httpx-aiohttp maps every ``aiohttp.ClientConnectionError`` (a server that closed the
    socket included) to ``httpx.ConnectTimeout``; only aiohttp's timeout errors are timeouts.
    """
    cause = exc.__cause__
    return isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(cause, TimeoutError)


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once: loading the CA bundle takes ~35 ms."""
    return httpx.create_ssl_context()


def _check_file_id(file_id: str) -> None:
    if not isinstance(file_id, str) or not file_id.strip():
        raise ValueError("a file id must be a non-empty string")
    if len(file_id) > MAX_FILE_ID_LENGTH:
        raise ValueError(f"a file id must be at most {MAX_FILE_ID_LENGTH} characters")


def _parse(model: type[_ModelT], data: Mapping[str, object]) -> _ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise WixResponseError(
            f"Wix's answer did not have the expected shape ({model.__name__}):"
            f" {exc.error_count()} problem(s)"
        ) from None
