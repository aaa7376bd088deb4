"""Async client for the Wix Media Manager calls MediaLink needs (docs/wix.md,
Generate File Download URL and the three sections after it; Finding files; Video streaming).

All HTTP goes through ``WixMediaClient._request``, the one place that decides about
retries (429, 5xx, timeouts, dropped connections; never other 4xx), waits (``Retry-After``
honoured up to a cap, otherwise exponential backoff with full jitter), the rate limit,
the concurrency bound, re-authentication after a 401, deadlines, logging and error mapping.

Logs name the method, path, status, attempt, ``x-wix-request-id`` (also as the
``wix_request_id`` field of JSON lines) and timing. They never contain headers,
credentials, query strings or response bodies (which hold signed URLs). With
``metrics`` set, every attempt is counted by endpoint and status, and timed.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Final, NoReturn, Self, TypeVar

import aiohttp
import httpx
from httpx_aiohttp import HttpxAiohttpClient
from pydantic import BaseModel, TypeAdapter, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from bot.wix.answers import decode_json, read_body
from bot.wix.auth import WixAuth
from bot.wix.errors import (
    REQUEST_ID_HEADER,
    AuthenticationError,
    ConnectFailure,
    InternalServerError,
    RateLimitError,
    WixAPIError,
    WixConnectionError,
    WixError,
    WixResponseError,
    WixTimeoutError,
    WixUnreachableError,
    error_from_response,
    transport_failure,
)
from bot.wix.limits import DEFAULT_BASE_URL, MAX_GET_FILES_IDS
from bot.wix.limits import PATH_OAUTH_TOKEN as PATH_OAUTH_TOKEN  # noqa: PLC0414 - re-exported
from bot.wix.models import (
    ContentDisposition,
    DownloadUrl,
    FileDescriptor,
    FileId,
    GenerateFileDownloadUrlRequest,
    GenerateFileDownloadUrlResponse,
    GenerateFilesDownloadUrlRequest,
    GenerateFilesDownloadUrlResponse,
    GenerateVideoStreamUrlRequest,
    GenerateVideoStreamUrlResponse,
    GetFileDescriptorResponse,
    GetFileDescriptorsRequest,
    GetFileDescriptorsResponse,
    RootFolder,
    SearchFilesRequest,
    SearchFilesResponse,
    SearchSortField,
    SortOrder,
    StreamFormat,
)
from bot.wix.ratelimit import DEFAULT_LIMIT, RateLimiter

if TYPE_CHECKING:
    from bot.metrics import Metrics

logger = logging.getLogger("bot.wix.client")

# Short connect timeout: an unreachable host should fail fast and be retried; a slow
# answer gets longer. httpx's read timeout restarts on every chunk, so
# ``RetryPolicy.attempt_timeout`` bounds each attempt as a whole.
DEFAULT_TIMEOUT: Final = httpx.Timeout(15.0, connect=3.0)
# As many calls in flight as the rate limiter admits in a window, so an admitted burst
# goes out in one wave (benchmarks/README.md).
DEFAULT_MAX_CONCURRENCY: Final = DEFAULT_LIMIT

PATH_GENERATE_FILE_DOWNLOAD_URL: Final = "/site-media/v1/files/generate-file-download-url"
PATH_GENERATE_FILES_DOWNLOAD_URL: Final = "/site-media/v1/files/generate-download-url"
PATH_GET_FILE: Final = "/site-media/v1/files/get-file-by-id"
PATH_GET_FILES: Final = "/site-media/v1/files/get-files"
PATH_SEARCH_FILES: Final = "/site-media/v1/files/search"
PATH_GENERATE_VIDEO_STREAM_URL: Final = "/site-media/v1/files/generate-video-stream-url"

_ModelT = TypeVar("_ModelT", bound=BaseModel)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry. The defaults keep one call under ``total_timeout``."""

    max_attempts: int = 4  # first try included
    initial_delay: float = 0.5  # backoff cap for the first retry; doubles each time
    max_delay: float = 8.0  # backoff cap
    max_retry_after: float = 30.0  # longest server-requested wait we honour
    total_timeout: float = 45.0  # no retry starts if it would end after this
    attempt_timeout: float = 20.0  # one attempt, connecting to the answer's last byte

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.initial_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("retry delays must not be negative")
        if self.total_timeout <= 0 or self.attempt_timeout <= 0:
            raise ValueError("total_timeout and attempt_timeout must be positive")

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


@dataclass
class _Call:
    """One API call across its attempts."""

    method: str
    path: str
    params: Mapping[str, str] | None
    json: object
    asset_keys: tuple[str, ...]
    started: float  # when the call was made
    # When the first attempt was let through: time queued for the concurrency bound
    # and the rate limiter is not time spent on Wix, so the budget starts here.
    budget_start: float | None = None
    attempts: int = 0
    refreshed: bool = False  # credentials were renewed once after a 401
    sent: float = field(default=0.0)  # when the current attempt was let through

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def spent(self, now: float) -> float:
        """Seconds of the call's time budget used by ``now``."""
        return now - (self.budget_start if self.budget_start is not None else self.started)


class _StaleCredentials(Exception):
    """A 401 after which fresh credentials are worth one more try."""

    def __init__(self, error: AuthenticationError) -> None:
        super().__init__(error.message)
        self.error = error


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _StaleCredentials | RateLimitError):
        return True
    if isinstance(exc, WixUnreachableError):
        return exc.reason is not ConnectFailure.TLS  # a bad certificate stays bad
    if isinstance(exc, WixConnectionError):
        return True
    # 501 Not Implemented will not change on a retry; other 5xx are "try again later".
    return isinstance(exc, InternalServerError) and exc.status != 501


def _describe(exc: BaseException | None) -> str:
    """A log-safe description of why an attempt failed (no URLs, no bodies)."""
    if isinstance(exc, _StaleCredentials):
        return "HTTP 401, refreshing credentials"
    if isinstance(exc, WixAPIError):
        return f"HTTP {exc.status} (request id {exc.request_id})"
    if isinstance(exc, WixUnreachableError):
        return f"cannot connect: {exc.reason}"
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
        metrics: Metrics | None = None,
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
        self.stats = ClientStats()
        self.metrics = metrics  # the app's, set when the app is built; None counts nothing

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

        Raises ``InvalidAssetKeyError`` (carrying ``asset_keys``) when Wix rejects a key,
        and ``ValueError`` for arguments Wix would refuse. The answer has no expiry: it is
        ``expiration_minutes`` (Wix default 600) from now.
        """
        _refuse_one_string(asset_keys, "asset_keys", "keys")
        keys = None if asset_keys is None else list(asset_keys)
        request = _build(
            GenerateFileDownloadUrlRequest,
            file_id=file_id,
            asset_keys=keys,
            expiration_in_minutes=expiration_minutes,
            expiration_redirect_url=redirect_url,
            download_file_name=download_file_name,
            content_disposition=content_disposition,
        )
        data = await self._request(
            "POST",
            PATH_GENERATE_FILE_DOWNLOAD_URL,
            json=request.to_json(),
            asset_keys=tuple(keys or ()),
        )
        return _parse(GenerateFileDownloadUrlResponse, data).download_urls

    async def get_file_descriptor(self, file_id: str) -> FileDescriptor:
        """One file's descriptor (``GET …/get-file-by-id?fileId=``)."""
        _check_file_id(file_id)
        data = await self._request("GET", PATH_GET_FILE, params={"fileId": file_id})
        return _parse(GetFileDescriptorResponse, data).file

    async def get_file_descriptors(self, file_ids: Sequence[str]) -> list[FileDescriptor]:
        """Descriptors for many files, in chunks of 100 fetched concurrently, in order."""
        _refuse_one_string(file_ids, "file_ids", "ids")
        ids = list(file_ids)
        chunks = [
            _build(GetFileDescriptorsRequest, file_ids=ids[i : i + MAX_GET_FILES_IDS])
            for i in range(0, len(ids), MAX_GET_FILES_IDS)
        ]
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
        """A PERMANENT zip URL for up to 1000 files. Not for private files (docs/wix.md)."""
        _refuse_one_string(file_ids, "file_ids", "ids")
        request = _build(GenerateFilesDownloadUrlRequest, file_ids=list(file_ids))
        data = await self._request("POST", PATH_GENERATE_FILES_DOWNLOAD_URL, json=request.to_json())
        return _parse(GenerateFilesDownloadUrlResponse, data).download_url

    async def search_files(
        self,
        search: str | None = None,
        *,
        media_types: Sequence[str] | None = None,
        private: bool | None = None,
        sort_field: SearchSortField | None = None,
        sort_order: SortOrder = SortOrder.DESC,
        limit: int | None = None,
        cursor: str | None = None,
        root_folder: RootFolder | None = None,
    ) -> SearchFilesResponse:
        """One page of the files matching ``search`` (docs/wix.md, Finding files).

        ``private``: True only private files, False only public ones, None both.
        ``limit`` at most 100; ``cursor`` is the previous page's ``next_page``. Raises
        ``ValueError`` for arguments Wix would refuse (search over 200 characters, an
        unknown media type, limit over 100), before any call.
        """
        _refuse_one_string(media_types, "media_types", "media type names")
        paging = None
        if limit is not None or cursor is not None:
            paging = {"limit": limit, "cursor": cursor}
        request = _build(
            SearchFilesRequest,
            search=search or None,
            root_folder=root_folder,
            media_types=None if media_types is None else list(media_types),
            private=private,
            sort=None if sort_field is None else {"field_name": sort_field, "order": sort_order},
            paging=paging,
        )
        data = await self._request("POST", PATH_SEARCH_FILES, json=request.to_json())
        return _parse(SearchFilesResponse, data)

    async def generate_video_stream_url(
        self,
        file_id: str,
        *,
        format: StreamFormat = StreamFormat.HLS,
        expiration_minutes: int | None = None,
    ) -> DownloadUrl:
        """A streaming URL (an HLS or DASH manifest) for one video (docs/wix.md, Video
        streaming). ``expiration_minutes`` (60-1440, Wix default 1440) applies to private
        videos only; a public video's stream URL does not expire."""
        request = _build(
            GenerateVideoStreamUrlRequest,
            file_id=file_id,
            format=format,
            expiration_in_minutes=expiration_minutes,
        )
        data = await self._request("POST", PATH_GENERATE_VIDEO_STREAM_URL, json=request.to_json())
        return _parse(GenerateVideoStreamUrlResponse, data).download_url

    async def _get_files_chunk(self, request: GetFileDescriptorsRequest) -> list[FileDescriptor]:
        data = await self._request("POST", PATH_GET_FILES, json=request.to_json())
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
            # httpx's API over aiohttp's pool: httpcore's pool bookkeeping cost too much CPU.
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
        call = _Call(method, path, params, json, asset_keys, started=self._clock())
        self.stats.calls += 1
        try:
            async for attempt in self._retrying(call):
                with attempt:
                    return await self._attempt(call)
        except _StaleCredentials as exc:  # attempts ran out right after the refresh
            self._log_final(call, exc.error)
            raise exc.error from None
        except WixError as exc:
            self._log_final(call, exc)
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _retrying(self, call: _Call) -> AsyncRetrying:
        """The retry policy, applied to ``call``: the only place retries are decided."""
        policy = self.retry

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
            return call.spent(self._clock()) + state.upcoming_sleep > policy.total_timeout

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            self.stats.retries += 1
            if self.metrics is not None:
                self.metrics.wix_retry(call.path)
            logger.info(
                "wix %s: attempt %d/%d failed (%s); retrying in %.2fs",
                call.name,
                state.attempt_number,
                policy.max_attempts,
                _describe(exc),
                delay,
                extra=_wix_extra(exc),
            )

        return AsyncRetrying(
            sleep=self._sleep,
            stop=stop,
            wait=wait,
            retry=retry_if_exception(_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )

    def _log_final(self, call: _Call, exc: WixError) -> None:
        """Say why a call failed for good: ERROR for refused credentials, WARNING for outages."""
        if isinstance(exc, WixAPIError) and exc.access_problem is not None:
            # Never the key or token: only the request id, what Wix said, and what to fix.
            logger.error(
                "wix %s: Wix refused MediaLink's credentials (HTTP %d, %s, request id %s): %s",
                call.name,
                exc.status,
                exc.access_problem,
                exc.request_id,
                self._auth.settings_to_fix(exc.access_problem),
                extra=_wix_extra(exc),
            )
        elif _retryable(exc) or isinstance(exc, WixUnreachableError):
            logger.warning(
                "wix %s: giving up after %d attempt(s), %.2fs (%s)",
                call.name,
                call.attempts,
                self._clock() - call.started,
                _describe(exc),
                extra=_wix_extra(exc),
            )

    async def _attempt(self, call: _Call) -> Mapping[str, object]:
        """One HTTP attempt of ``call``, within the concurrency bound and the rate limit."""
        http = self._client()
        # The limiter first: it serves requesters round-robin, and a semaphore taken
        # before it would queue everyone behind a flood in arrival order.
        async with self._limiter.slot(), self._semaphore:
            call.attempts += 1
            call.sent = self._clock()
            if call.budget_start is None:
                call.budget_start = call.sent
            with self._counted_in_flight():
                try:
                    status, headers, raw = await self._exchange(http, call)
                except WixError as exc:
                    self._observe(call, _failure_status(exc))
                    raise
        self._observe(call, status)
        return self._decode(call, status, headers, raw)

    def _observe(self, call: _Call, status: int | str) -> None:
        if self.metrics is not None:
            self.metrics.wix_attempt(call.path, status, self._clock() - call.sent)

    @contextmanager
    def _counted_in_flight(self) -> Iterator[None]:
        stats = self.stats
        stats.attempts += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            yield
        finally:
            stats.in_flight -= 1

    async def _exchange(
        self, http: httpx.AsyncClient, call: _Call
    ) -> tuple[int, httpx.Headers, bytes]:
        """Send ``call`` and read the whole answer, all within the attempt's deadline.

        httpx's read timeout restarts with every chunk, so a body that drips in would
        otherwise hold the concurrency slot and the rate-limit permit for ever.
        """
        left = self.retry.total_timeout - call.spent(self._clock())
        deadline = max(0.001, min(self.retry.attempt_timeout, left))
        try:
            async with asyncio.timeout(deadline):
                headers = {"Accept": "application/json", **await self._auth.headers(http)}
                request = http.build_request(
                    call.method,
                    self.base_url + call.path,
                    params=call.params,
                    json=call.json,
                    headers=headers,
                )
                response = await http.send(request, stream=True)
                try:
                    raw = await read_body(response, call.name)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            logger.debug("wix %s: attempt %d ran out of time", call.name, call.attempts)
            raise WixTimeoutError(
                f"Wix did not answer in time ({call.name}, {deadline:.1f}s)"
            ) from exc
        except httpx.HTTPError as exc:
            _raise_transport_error(call, exc)
        return response.status_code, response.headers, raw

    def _decode(
        self, call: _Call, status: int, headers: httpx.Headers, raw: bytes
    ) -> Mapping[str, object]:
        """The answer's JSON object, or the typed error it stands for."""
        request_id = headers.get(REQUEST_ID_HEADER)
        logger.debug(
            "wix %s -> %d (attempt %d, request id %s, %.0f ms)",
            call.name,
            status,
            call.attempts,
            request_id,
            (self._clock() - call.sent) * 1000,
            extra={"wix_request_id": request_id},
        )
        data = decode_json(raw)
        if status >= 400:
            error = error_from_response(status, data, headers, call.asset_keys)
            if isinstance(error, AuthenticationError) and self._may_refresh(call):
                # Credentials may have expired early or been revoked: one retry, fresh token.
                raise _StaleCredentials(error)
            raise error
        if not isinstance(data, dict):
            raise WixResponseError(
                f"Wix answered {call.name} with HTTP {status} but no JSON object"
                f" (request id {request_id})"
            )
        return data

    def _may_refresh(self, call: _Call) -> bool:
        if call.refreshed or not self._auth.refreshable:
            return False
        call.refreshed = True
        self._auth.invalidate()
        return True


def _wix_extra(exc: BaseException | None) -> dict[str, str | None]:
    """A log line's ``wix_request_id``, when Wix answered with one."""
    return {"wix_request_id": exc.request_id if isinstance(exc, WixAPIError) else None}


def _failure_status(exc: WixError) -> str:
    """The status label of an attempt that got no HTTP answer."""
    return transport_failure(exc) or "error"


def _raise_transport_error(call: _Call, exc: httpx.HTTPError) -> NoReturn:
    """Map an httpx failure to the Wix error it means; only transient ones are retried."""
    logger.debug("wix %s: attempt %d failed: %s", call.name, call.attempts, type(exc).__name__)
    reason = _connect_failure(exc)
    if reason is not None:
        raise WixUnreachableError(
            f"Could not connect to the Wix API URL ({call.name}): {reason}", reason=reason
        ) from exc
    if isinstance(exc, httpx.TimeoutException) and not _was_disconnected(exc):
        raise WixTimeoutError(f"Wix did not answer in time ({call.name})") from exc
    if isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.UnsupportedProtocol):
        raise WixConnectionError(
            f"Could not reach Wix ({call.name}): connection lost ({type(exc).__name__})"
        ) from exc
    # Not transient (e.g. a malformed URL): no retry.
    raise WixError(f"HTTP error calling Wix ({call.name}): {type(exc).__name__}") from exc


def _connect_failure(exc: httpx.HTTPError) -> ConnectFailure | None:
    """Why no connection was made, or None if one was (or the cause is unknown).

    Read from the exception chain, since httpx-aiohttp reports a refused connection as
    ``ConnectTimeout`` and plain httpx as ``ConnectError``.
    """
    if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return None
    causes = list(_chain(exc))
    if any(isinstance(c, ssl.SSLError | ssl.CertificateError) for c in causes):
        return ConnectFailure.TLS
    if any(isinstance(c, socket.gaierror | aiohttp.ClientConnectorDNSError) for c in causes):
        return ConnectFailure.DNS
    if any(
        isinstance(c, ConnectionRefusedError)
        or (isinstance(c, OSError) and c.errno == errno.ECONNREFUSED)
        for c in causes
    ):
        return ConnectFailure.REFUSED
    if any(isinstance(c, aiohttp.ClientConnectorError) for c in causes):
        return ConnectFailure.OTHER
    if any(isinstance(c, aiohttp.ClientConnectionError) for c in causes):
        return None  # a pooled connection that broke: "connection lost", not unreachable
    if any(isinstance(c, TimeoutError) for c in causes) or isinstance(exc, httpx.ConnectTimeout):
        return ConnectFailure.TIMEOUT
    return ConnectFailure.OTHER


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


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


def _refuse_one_string(values: object, name: str, items: str) -> None:
    """A lone string is a sequence of characters; refuse it rather than send each letter."""
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of {items}, not one string")


def _check_file_id(file_id: str) -> None:
    try:
        _FILE_ID.validate_python(file_id)
    except ValidationError as exc:
        raise _argument_error(exc, "file_id") from None


def _build(model: type[_ModelT], **fields: object) -> _ModelT:
    """Validate arguments by building the request model, as ``ValueError`` when they fail."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise _argument_error(exc) from None


def _argument_error(exc: ValidationError, name: str | None = None) -> ValueError:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or name or "value"
        problems.append(f"{where}: {error['msg']}")
    return ValueError("; ".join(problems))


_FILE_ID: Final = TypeAdapter(FileId)


def _parse(model: type[_ModelT], data: Mapping[str, object]) -> _ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise WixResponseError(
            f"Wix's answer did not have the expected shape ({model.__name__}):"
            f" {exc.error_count()} problem(s)"
        ) from None
