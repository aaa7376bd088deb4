"""A loopback fake of the Wix REST API (Media Manager + OAuth), for tests and benchmarks.

A real aiohttp server on 127.0.0.1 (random port) in its own thread with its own event
loop, so sync tests, async tests on any loop, and subprocesses (pass ``base_url``) can
all use it::

    with FakeWix() as wix:
        file_id = wix.add_file(kind="video")
        ... WixMediaClient(ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID),
                           base_url=wix.base_url) ...
        assert wix.requests_to("/generate-file-download-url")

It checks requests the way Wix documents them (docs/wix.md) and
answers with the documented shapes. Choices where Wix's behaviour is UNCONFIRMED:

- ``Authorization: Bearer <API key>`` is refused with 401 (Wix's code sends keys raw);
  an OAuth token is accepted raw or with ``Bearer``.
- An API key without ``wix-site-id`` gets 401; with another site id, 403.
- An unknown file answers ``not_found_status`` (default 404, body
  ``details.applicationError.code = NOT_FOUND``); set it to 400 to get the
  ``validationError`` ``ruleName: RESOURCE_NOT_FOUND`` form instead. ``get-files``
  fails the whole call if any id is unknown.
- POSTs without ``Content-Type: application/json`` or with a body that isn't a JSON
  object get 400 "Invalid request message" (shape seen in real Wix answers).
- ``expirationInMinutes`` must be a JSON integer (the string form is UNCONFIRMED).
- Valid asset keys for a file are ``src`` plus its ``renditions``; video renditions are
  ``<quality>.<format>`` and appear in ``media.video.resolutions`` (alongside an hls
  manifest and a storyboard, which are not keys); audio renditions appear as
  ``media.audio.assets[].filename`` (no ``assetKey``, as in the 2023 spec).
- With ``key_permissions = "read"`` the generate* calls answer 403 PERMISSION_DENIED.
- ``token_lifetime`` sets the ``expires_in`` of the OAuth tokens it issues (Wix: always 14400).
- ``files/search`` matches every word of ``search`` (case-insensitive, as a substring) in
  the display name, MIME type or labels (Wix's ranking and partial-word matching are
  UNCONFIRMED); without ``sort`` it orders by ``updatedDate``, newest first; a page
  without ``paging.limit`` holds ``SEARCH_DEFAULT_LIMIT`` files (Wix's default is
  UNCONFIRMED). A cursor is an opaque token for the same query's next page; a cursor
  the fake did not issue, or sent with another query, gets 400. Only the Site Files
  root is served (the trash and visitor uploads are empty).
- ``generate-video-stream-url`` answers for videos only (400 otherwise); the expiry must
  be 60-1440 (default 1440) and is recorded for private videos only.

- Several sites: ``add_site()`` hosts another site ID with its own API key (and, with
  ``app=True``, its own app instance) and its own files (``add_file(site=…)``), all on
  one server, told apart by ``wix-site-id`` (or the token's instance). A key used on a
  site it does not belong to gets the wrong-site 403 above; a key made with
  ``permissions="read"`` gets the missing-permission 403 on the generate* calls.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Final, Literal, Self
from urllib.parse import unquote

from aiohttp import web

GENERATE_FILE_DOWNLOAD_URL: Final = "/site-media/v1/files/generate-file-download-url"
GENERATE_FILES_DOWNLOAD_URL: Final = "/site-media/v1/files/generate-download-url"
GET_FILE: Final = "/site-media/v1/files/get-file-by-id"
GET_FILES: Final = "/site-media/v1/files/get-files"
SEARCH_FILES: Final = "/site-media/v1/files/search"
GENERATE_VIDEO_STREAM_URL: Final = "/site-media/v1/files/generate-video-stream-url"
OAUTH_TOKEN: Final = "/oauth2/token"

_INVALID_JSON: Final = object()
_PAYLOAD: Final = web.RequestKey("payload", object)
_SITE: Final = web.RequestKey("site", str)

TOKEN_LIFETIME: Final = 14_400  # "Always 14400 (4 hours)" (docs/wix.md, OAuth client credentials)
DEFAULT_EXPIRATION_MINUTES: Final = 600
MAX_EXPIRATION_MINUTES: Final = 525_600
SEARCH_DEFAULT_LIMIT: Final = 50
_SEARCH_SORT_FIELDS: Final = ("displayName", "updatedDate", "sizeInBytes")
_SEARCH_ROOTS: Final = ("MEDIA_ROOT", "TRASH_ROOT", "VISITOR_UPLOADS_ROOT")
_SEARCH_MEDIA_TYPES: Final = (
    "IMAGE",
    "VIDEO",
    "AUDIO",
    "DOCUMENT",
    "VECTOR",
    "ARCHIVE",
    "MODEL3D",
    "OTHER",
)
_MIME_TYPES: Final[dict[str, str]] = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "document": "application/pdf",
    "vector": "image/svg+xml",
    "archive": "application/zip",
}

Kind = Literal["image", "video", "audio", "document", "vector", "archive"]

_DEFAULT_RENDITIONS: Final[dict[str, tuple[str, ...]]] = {
    "video": ("480p.mp4", "720p.mp4", "1080p.mp4"),
    "audio": ("320kbs.mp3",),
}
_EXTENSIONS: Final[dict[str, str]] = {
    "image": "~mv2.jpg",
    "video": "",
    "audio": ".mp3",
    "document": ".pdf",
    "vector": ".svg",
    "archive": ".zip",
}
_MEDIA_TYPES: Final[dict[str, str]] = {
    "image": "IMAGE",
    "video": "VIDEO",
    "audio": "AUDIO",
    "document": "DOCUMENT",
    "vector": "VECTOR",
    "archive": "ARCHIVE",
}
_HEIGHTS: Final[dict[str, tuple[int, int]]] = {
    "144p": (256, 144),
    "240p": (426, 240),
    "360p": (640, 360),
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
}
_USRFILES: Final = "https://d945e594-8657-47e2-9cd9-e9033c3d8da0.usrfiles.com/ugd/"
_DEFAULT_CODES: Final[dict[int, tuple[str, str]]] = {
    400: ("INVALID_ARGUMENT", "Bad request"),
    401: ("UNAUTHENTICATED", "Unauthorized"),
    403: ("PERMISSION_DENIED", "Permission denied"),
    404: ("NOT_FOUND", "Entity not found"),
    409: ("ALREADY_EXISTS", "Conflict"),
    428: ("REQUIRED_APP_NOT_INSTALLED", "Precondition required"),
    429: ("RESOURCE_EXHAUSTED", "Too many requests"),
}


# Every credential any FakeWix handed out (signed-link tokens, OAuth access tokens,
# archive IDs), for the suite's check that none reaches the logs (tests/conftest.py
# clears it before each test).
issued_secrets: list[str] = []


@dataclass
class RecordedRequest:
    """One request the fake received. ``headers`` keys are lower-case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: object
    started: float  # time.monotonic()
    request_id: str
    finished: float | None = None
    status: int | None = None  # None if the connection was dropped or the client went away
    site: str | None = None  # the site the call acted on, once authenticated


@dataclass(frozen=True)
class IssuedLink:
    """A signed URL the fake handed out, with what was asked for it."""

    file_id: str
    asset_key: str
    url: str
    token: str
    expiration_minutes: int
    expires_at: float  # time.time() based
    content_disposition: str
    download_file_name: str | None
    redirect_url: str | None


@dataclass(frozen=True)
class IssuedStream:
    """A stream URL the fake handed out. ``expiration_minutes`` None: a public video's."""

    file_id: str
    format: str
    url: str
    expiration_minutes: int | None


@dataclass
class _Fault:
    path_suffix: str | None
    status: int | None
    body: object
    retry_after: str | None
    delay: float
    drop_connection: bool
    remaining: int
    drip_interval: float = 0.0
    drip_chunk: int = 16
    pad_bytes: int = 0

    def matches(self, path: str) -> bool:
        if self.path_suffix is None:
            return path != OAUTH_TOKEN
        return path.endswith(self.path_suffix)


@dataclass
class _File:
    id: str
    kind: str
    private: bool
    renditions: tuple[str, ...]
    descriptor: dict[str, object] = field(default_factory=dict)
    unavailable: tuple[str, ...] = ()  # in the descriptor, refused by generate

    @property
    def asset_keys(self) -> frozenset[str]:
        return frozenset(("src", *self.renditions)) - frozenset(self.unavailable)


class FakeWix:
    """The loopback fake. Safe to drive from any thread; see the module docstring."""

    API_KEY: Final = "IST.fake-api-key"
    SITE_ID: Final = "2f1a6a5e-0000-4000-8000-00000000a11e"
    CLIENT_ID: Final = "6f1c8a52-0000-4000-8000-0000000c11e7"
    CLIENT_SECRET: Final = "fake-app-secret-5a3d"
    INSTANCE_ID: Final = "9d0e8f7a-0000-4000-8000-00000005a1ce"

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.token_lifetime = TOKEN_LIFETIME  # expires_in of the tokens it issues
        self.key_permissions: Literal["manage", "read"] = "manage"
        self.not_found_status: Literal[400, 404] = 404
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._issued: list[IssuedLink] = []
        self._issued_streams: list[IssuedStream] = []
        # cursor token -> (query fingerprint, offset of the page it opens)
        self._cursors: dict[str, tuple[str, int]] = {}
        self._tokens: set[str] = set()
        self._expired_tokens: set[str] = set()
        self.tokens_issued = 0
        self._in_flight = 0
        self.max_in_flight = 0
        # More sites on the same server: site ID → its files; API key → (site, permissions);
        # app instance → site; OAuth token → site.
        self._site_files: dict[str, dict[str, _File]] = {self.SITE_ID: self._files}
        self._site_keys: dict[str, tuple[str, Literal["manage", "read"]]] = {}
        self._instances: dict[str, str] = {self.INSTANCE_ID: self.SITE_ID}
        self._token_sites: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._routes: dict[tuple[str, str], Callable[[web.Request, object], web.Response]] = {
            ("POST", GENERATE_FILE_DOWNLOAD_URL): self._generate_file_download_url,
            ("POST", GENERATE_FILES_DOWNLOAD_URL): self._generate_files_download_url,
            ("GET", GET_FILE): self._get_file,
            ("POST", GET_FILES): self._get_files,
            ("POST", SEARCH_FILES): self._search_files,
            ("POST", GENERATE_VIDEO_STREAM_URL): self._generate_video_stream_url,
            ("POST", OAUTH_TOKEN): self._oauth_token,
        }

    # -- lifecycle ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeWix is not started; call start() or use it as a context")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._ready.clear()
        self._thread = threading.Thread(target=self._serve, name="fake-wix", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("FakeWix did not start within 10 s")
        if self._startup_error is not None:
            self._thread.join(timeout=5)
            self._thread = None
            raise RuntimeError("FakeWix failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as exc:  # reported to start()
                self._startup_error = exc
                return
            finally:
                self._ready.set()
            loop.run_forever()
            if self._runner is not None:
                loop.run_until_complete(self._runner.cleanup())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    async def _start_site(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a client that gave up (timeout) stops its handler too.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.2, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])

    # -- test controls --------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    @property
    def issued(self) -> list[IssuedLink]:
        with self._lock:
            return list(self._issued)

    def inject(
        self,
        path_suffix: str | None,
        *,
        status: int | None = None,
        body: object = None,
        retry_after: str | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
        times: int = 1,
        drip_interval: float = 0.0,
        drip_chunk: int = 16,
        pad_bytes: int = 0,
    ) -> None:
        """Queue a fault for the next ``times`` requests whose path ends with ``path_suffix``.

        ``None`` matches every API call (not the token endpoint; name it explicitly).
        Faults are consumed first-in first-out. ``delay`` alone slows a normal answer;
        ``status`` replaces the answer (``body`` None → Wix's default body for that
        status, ``""`` → empty body, str/bytes → raw, anything else → JSON).
        ``pad_bytes`` appends that much whitespace to the (still valid) JSON answer.
        ``drip_interval`` > 0 sends the answer chunked, ``drip_chunk`` bytes at a time
        with that pause between, and no Content-Length.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(
                _Fault(
                    path_suffix,
                    status,
                    body,
                    retry_after,
                    delay,
                    drop_connection,
                    times,
                    drip_interval=drip_interval,
                    drip_chunk=drip_chunk,
                    pad_bytes=pad_bytes,
                )
            )

    @property
    def issued_streams(self) -> list[IssuedStream]:
        with self._lock:
            return list(self._issued_streams)

    def expire_tokens(self) -> None:
        """Make every OAuth token issued so far invalid (Wix answers 401)."""
        with self._lock:
            self._expired_tokens |= self._tokens
            self._tokens.clear()

    def reset(self) -> None:
        """Forget recorded requests, issued links and queued faults (files and tokens stay)."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._issued.clear()
            self._issued_streams.clear()
            self.max_in_flight = self._in_flight

    def add_file(
        self,
        file_id: str | None = None,
        *,
        kind: Kind = "image",
        display_name: str | None = None,
        private: bool = False,
        size: int = 12345,
        renditions: Sequence[str] | None = None,
        unavailable: Sequence[str] = (),
        labels: Sequence[str] = (),
        updated: datetime | None = None,
    ) -> str:
        """Add a file to the site's Media Manager and return its id.

        ``unavailable``: renditions the descriptor lists but generate-file-download-url
        refuses with INVALID_ASSET_KEY (as Wix may for a private video's storyboard).
        """
        if kind not in _MEDIA_TYPES:
            raise ValueError(f"unknown kind {kind!r}")
        if file_id is None:
            file_id = f"{secrets.token_hex(3)}_{secrets.token_hex(16)}{_EXTENSIONS[kind]}"
        keys = tuple(renditions) if renditions is not None else _DEFAULT_RENDITIONS.get(kind, ())
        keys += tuple(key for key in unavailable if key not in keys)
        name = display_name or f"{kind}-{file_id[:6]}{_EXTENSIONS[kind].replace('~mv2', '')}"
        record = _File(file_id, kind, private, keys, unavailable=tuple(unavailable))
        record.descriptor = _descriptor(
            file_id, kind=kind, name=name, private=private, size=size, renditions=keys
        )
        record.descriptor["mimeType"] = _MIME_TYPES[kind]
        record.descriptor["labels"] = list(labels)
        if updated is not None:
            stamp = updated.astimezone(UTC).isoformat(timespec="seconds")
            record.descriptor["updatedDate"] = stamp.replace("+00:00", "Z")
        with self._lock:
            self._files[file_id] = record
        return file_id

    def add_site(
        self,
        site_id: str | None = None,
        *,
        permissions: Literal["manage", "read"] = "manage",
    ) -> tuple[str, str, str]:
        """Host another site: ``(site ID, its API key, its app instance ID)``.

        The key and the instance act on that site only; the key is registered among the
        secrets the suite's log check looks for."""
        site_id = site_id or str(uuid.uuid4())
        api_key = f"IST.fake-site-key-{secrets.token_urlsafe(18)}"
        instance_id = str(uuid.uuid4())
        issued_secrets.append(api_key)
        with self._lock:
            self._site_files.setdefault(site_id, {})
            self._site_keys[api_key] = (site_id, permissions)
            self._instances[instance_id] = site_id
        return site_id, api_key, instance_id

    def add_site_file(self, site_id: str, *, kind: Kind = "image", **kwargs: object) -> str:
        """``add_file`` on another site (``add_site``); returns the file ID."""
        file_id = self.add_file(kind=kind, **kwargs)  # type: ignore[arg-type]
        with self._lock:
            record = self._files.pop(file_id)
            self._site_files[site_id][file_id] = record
        return file_id

    def requests_for_site(self, site_id: str) -> list[RecordedRequest]:
        """The API calls that acted on ``site_id``."""
        return [r for r in self.requests if r.site == site_id]

    def descriptor(self, file_id: str) -> dict[str, object]:
        """The FileDescriptor JSON the fake serves for ``file_id``."""
        with self._lock:
            return json.loads(json.dumps(self._files[file_id].descriptor))  # type: ignore[no-any-return]

    # -- HTTP plumbing --------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        raw = await request.read()
        payload: object = None
        if raw:
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = _INVALID_JSON
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            json=None if payload is _INVALID_JSON else payload,
            started=time.monotonic(),
            request_id=f"{time.time():.3f}.{uuid.uuid4().hex[:20]}",
        )
        with self._lock:
            self._requests.append(record)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            fault = self._take_fault(request.path)
        response: web.StreamResponse
        try:
            delay = self.latency + (fault.delay if fault else 0.0)
            if delay > 0:
                await asyncio.sleep(delay)
            if fault is not None and fault.drop_connection:
                # Close the socket without a byte of answer; the client sees a disconnect.
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=499)  # never sent: the transport is gone
            if fault is not None and fault.status is not None:
                response = _fault_response(fault)
            else:
                request[_PAYLOAD] = payload
                response = await handler(request)
            response.headers["x-wix-request-id"] = record.request_id
            record.status = response.status
            record.site = request.get(_SITE)
            if fault is not None and (fault.pad_bytes or fault.drip_interval):
                response = await _reshape(request, response, fault)
        finally:
            record.finished = time.monotonic()
            with self._lock:
                self._in_flight -= 1
        return response

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _dispatch(self, request: web.Request) -> web.Response:
        payload = request[_PAYLOAD]
        route = self._routes.get((request.method, request.path))
        if route is None:
            if any(path == request.path for _, path in self._routes):
                return _error(405, "Method not allowed", "METHOD_NOT_ALLOWED")
            return _error(404, "Not Found", "NOT_FOUND")
        if request.method == "POST":
            if request.content_type != "application/json" or payload is _INVALID_JSON:
                return _invalid_request("body", "must be a JSON document (application/json)")
            if not isinstance(payload, dict):
                return _invalid_request("body", "must be a JSON object")
        if request.path != OAUTH_TOKEN:
            denied = self._authenticate(request)
            if denied is not None:
                return denied
        return route(request, payload)

    def _authenticate(self, request: web.Request) -> web.Response | None:
        denied = self._authenticate_site(request)
        if denied is None:
            request[_SITE] = request.get(_SITE) or self.SITE_ID
        return denied

    def _authenticate_site(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if not auth:
            return _error(401, "Missing Authorization header", "UNAUTHENTICATED")
        with self._lock:
            other = self._site_keys.get(auth)
        if other is not None:
            site = request.headers.get("wix-site-id")
            if not site:
                return _error(
                    401,
                    "wix-site-id or wix-account-id header is required with an API key",
                    "UNAUTHENTICATED",
                )
            if site != other[0]:
                return _error(403, "The API key has no access to this site", "PERMISSION_DENIED")
            request[_SITE] = site
            if other[1] == "read" and request.path in (
                GENERATE_FILE_DOWNLOAD_URL,
                GENERATE_FILES_DOWNLOAD_URL,
            ):
                return _error(
                    403,
                    "Permission denied",
                    "PERMISSION_DENIED",
                    description="Missing permission MEDIA.SITE_MEDIA_FILES_DOWNLOAD_URL",
                )
            return None
        if auth == self.API_KEY:
            site = request.headers.get("wix-site-id")
            if not site:
                return _error(
                    401,
                    "wix-site-id or wix-account-id header is required with an API key",
                    "UNAUTHENTICATED",
                )
            if site != self.SITE_ID:
                return _error(403, "The API key has no access to this site", "PERMISSION_DENIED")
            return None
        token = auth.removeprefix("Bearer ").strip()
        if token == self.API_KEY:
            # UNCONFIRMED whether Wix accepts this; the fake is strict so the client is checked.
            return _error(401, "API keys are sent without the Bearer prefix", "UNAUTHENTICATED")
        with self._lock:
            if token in self._tokens:
                request[_SITE] = self._token_sites.get(token, self.SITE_ID)
                return None
            expired = token in self._expired_tokens
        if expired:
            return _error(401, "Access token expired", "UNAUTHENTICATED")
        return _error(401, "Invalid access token", "UNAUTHENTICATED")

    def _permission(self, permission: str) -> web.Response | None:
        if self.key_permissions == "read":
            return _error(
                403,
                "Permission denied",
                "PERMISSION_DENIED",
                description=f"Missing permission {permission}",
            )
        return None

    def _lookup(
        self, raw_ids: Sequence[str], site: str | None = None
    ) -> tuple[list[_File], web.Response | None]:
        found, missing = [], []
        with self._lock:
            files = self._site_files.get(site or self.SITE_ID, {})
            for raw in raw_ids:
                record = files.get(_resolve_file_id(raw))
                if record is None:
                    missing.append(raw)
                else:
                    found.append(record)
        if missing:
            return found, self._not_found(missing)
        return found, None

    def _not_found(self, ids: Sequence[str]) -> web.Response:
        message = f"File not found: {', '.join(ids[:5])}"
        if self.not_found_status == 400:
            return _violation(
                "fileId",
                message,
                violated_rule="OTHER",
                rule_name="RESOURCE_NOT_FOUND",
                message=message,
            )
        return _error(404, message, "NOT_FOUND", description="File not found")

    # -- endpoints ------------------------------------------------------------------

    def _oauth_token(self, request: web.Request, body: object) -> web.Response:
        assert isinstance(body, dict)
        if body.get("grant_type") != "client_credentials":
            return _ietf(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if body.get("client_id") != self.CLIENT_ID or body.get("client_secret") != (
            self.CLIENT_SECRET
        ):
            return _ietf(401, "invalid_client", "Invalid app id or app secret")
        with self._lock:
            site = self._instances.get(str(body.get("instance_id")))
        if site is None:
            return _ietf(400, "invalid_request", "Unknown app instance")
        token = f"OAUTH2.fake-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._token_sites[token] = site
            self._tokens.add(token)
            self.tokens_issued += 1
        issued_secrets.append(token)
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}
        )

    def _generate_file_download_url(self, request: web.Request, body: object) -> web.Response:
        assert isinstance(body, dict)
        denied = self._permission("MEDIA.SITE_MEDIA_FILES_DOWNLOAD_URL")
        if denied is not None:
            return denied
        file_id = body.get("fileId")
        if not isinstance(file_id, str) or not file_id:
            return _violation("fileId", "must not be empty", violated_rule="REQUIRED_FIELD")
        if len(file_id) > 1000:
            return _violation(
                "fileId", "must be at most 1000 characters", violated_rule="MAX_LENGTH"
            )
        expiration = body.get("expirationInMinutes", DEFAULT_EXPIRATION_MINUTES)
        if not isinstance(expiration, int) or isinstance(expiration, bool):
            return _violation("expirationInMinutes", "must be an integer", violated_rule="FORMAT")
        if not 1 <= expiration <= MAX_EXPIRATION_MINUTES:
            return _violation(
                "expirationInMinutes",
                f"must be between 1 and {MAX_EXPIRATION_MINUTES}",
                violated_rule="MIN" if expiration < 1 else "MAX",
            )
        keys = body.get("assetKeys", ["src"])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            return _violation("assetKeys", "must be a list of strings", violated_rule="FORMAT")
        if len(keys) > 100:
            return _violation("assetKeys", "must have at most 100 items", violated_rule="MAX_SIZE")
        if any(len(k) > 100 for k in keys):
            return _violation("assetKeys", "items must be at most 100 characters", "MAX_LENGTH")
        name = body.get("downloadFileName")
        if name is not None and (not isinstance(name, str) or len(name) > 100):
            return _violation(
                "downloadFileName", "must be at most 100 characters", violated_rule="MAX_LENGTH"
            )
        disposition = body.get("contentDisposition", "ATTACHMENT")
        if disposition not in ("ATTACHMENT", "INLINE"):
            return _violation(
                "contentDisposition", "must be ATTACHMENT or INLINE", violated_rule="FORMAT"
            )
        redirect = body.get("expirationRedirectUrl")
        if redirect is not None and not isinstance(redirect, str):
            return _violation("expirationRedirectUrl", "must be a URL", violated_rule="FORMAT")
        found, missing = self._lookup([file_id], request.get(_SITE))
        if missing is not None:
            return missing
        record = found[0]
        unknown = [k for k in keys if k not in record.asset_keys]
        if unknown:
            return _violation(
                "assetKeys",
                f"Invalid asset key: {unknown[0]}",
                violated_rule="OTHER",
                rule_name="INVALID_ASSET_KEY",
                data={"assetKey": unknown[0]},
            )
        folder = "ugd" if record.kind in ("document", "archive") else "media"
        urls, issued = [], []
        for key in keys:
            token = secrets.token_urlsafe(32)
            issued_secrets.append(token)
            url = f"https://download-files.wixmp.com/{folder}/{record.id}?token={token}"
            urls.append({"url": url, "assetKey": key})
            issued.append(
                IssuedLink(
                    file_id=record.id,
                    asset_key=key,
                    url=url,
                    token=token,
                    expiration_minutes=expiration,
                    expires_at=time.time() + expiration * 60,
                    content_disposition=str(disposition),
                    download_file_name=name,
                    redirect_url=redirect,
                )
            )
        with self._lock:
            self._issued.extend(issued)
        return web.json_response({"downloadUrls": urls})

    def _get_file(self, request: web.Request, body: object) -> web.Response:
        file_id = request.query.get("fileId")
        if not file_id:
            return _violation("fileId", "must not be empty", violated_rule="REQUIRED_FIELD")
        found, missing = self._lookup([file_id], request.get(_SITE))
        if missing is not None:
            return missing
        return web.json_response({"file": found[0].descriptor})

    def _get_files(self, request: web.Request, body: object) -> web.Response:
        assert isinstance(body, dict)
        ids = body.get("fileIds")
        problem = _check_ids(ids, 100)
        if problem is not None:
            return problem
        assert isinstance(ids, list)
        found, missing = self._lookup(ids, request.get(_SITE))
        if missing is not None:
            return missing
        return web.json_response({"files": [r.descriptor for r in found]})

    def _generate_files_download_url(self, request: web.Request, body: object) -> web.Response:
        assert isinstance(body, dict)
        denied = self._permission("MEDIA.SITE_MEDIA_FILES_DOWNLOAD")
        if denied is not None:
            return denied
        ids = body.get("fileIds")
        problem = _check_ids(ids, 1000)
        if problem is not None:
            return problem
        assert isinstance(ids, list)
        _, missing = self._lookup(ids, request.get(_SITE))
        if missing is not None:
            return missing
        archive_id = secrets.token_hex(16)
        issued_secrets.append(archive_id)
        return web.json_response(
            {"downloadUrl": f"https://archive.wixmp.com/archive/wix/{archive_id}"}
        )

    def _search_files(self, request: web.Request, body: object) -> web.Response:
        assert isinstance(body, dict)
        query, problem = _search_query(body)
        if problem is not None:
            return problem
        paging = body.get("paging") or {}
        if not isinstance(paging, dict):
            return _violation("paging", "must be an object", violated_rule="FORMAT")
        limit = paging.get("limit", SEARCH_DEFAULT_LIMIT)
        if not isinstance(limit, int) or isinstance(limit, bool):
            return _violation("paging.limit", "must be an integer", violated_rule="FORMAT")
        if not 0 <= limit <= 100:
            return _violation(
                "paging.limit", "must be at most 100", violated_rule="MAX" if limit else "MIN"
            )
        limit = limit or SEARCH_DEFAULT_LIMIT
        fingerprint = json.dumps(query, sort_keys=True)
        cursor = paging.get("cursor")
        offset = 0
        if cursor is not None:
            with self._lock:
                known = self._cursors.get(cursor) if isinstance(cursor, str) else None
            if known is None or known[0] != fingerprint:
                return _violation("paging.cursor", "invalid cursor", violated_rule="FORMAT")
            offset = known[1]
        with self._lock:  # the site the call acted on: each site searches its own files
            records = list(self._site_files.get(request.get(_SITE) or self.SITE_ID, {}).values())
        matches = [r.descriptor for r in records if _matches(r, query)]
        sort = query["sort"]
        assert isinstance(sort, list)
        field_name, order = sort
        matches.sort(key=lambda d: str(d["id"]))
        matches.sort(key=lambda d: _sort_key(d, str(field_name)), reverse=order == "DESC")
        page = matches[offset : offset + limit]
        answer: dict[str, object] = {"files": page}
        cursors: dict[str, object] = {"next": None}
        if offset + limit < len(matches):
            token = secrets.token_urlsafe(24)
            with self._lock:
                self._cursors[token] = (fingerprint, offset + limit)
            cursors["next"] = token
        answer["nextCursor"] = {"count": len(page), "cursors": cursors}
        return web.json_response(answer)

    def _generate_video_stream_url(self, request: web.Request, body: object) -> web.Response:
        assert isinstance(body, dict)
        denied = self._permission("MEDIA.SITE_MEDIA_FILES_DOWNLOAD_URL")
        if denied is not None:
            return denied
        file_id = body.get("fileId")
        if not isinstance(file_id, str) or not file_id:
            return _violation("fileId", "must not be empty", violated_rule="REQUIRED_FIELD")
        if len(file_id) > 1000:
            return _violation(
                "fileId", "must be at most 1000 characters", violated_rule="MAX_LENGTH"
            )
        fmt = body.get("format", "HLS")
        if fmt not in ("HLS", "DASH"):
            return _violation("format", "must be HLS or DASH", violated_rule="FORMAT")
        expiration = body.get("expirationInMinutes", 1440)
        if not isinstance(expiration, int) or isinstance(expiration, bool):
            return _violation("expirationInMinutes", "must be an integer", violated_rule="FORMAT")
        if not 60 <= expiration <= 1440:
            return _violation(
                "expirationInMinutes",
                "must be between 60 and 1440",
                violated_rule="MIN" if expiration < 60 else "MAX",
            )
        found, missing = self._lookup([file_id], request.get(_SITE))
        if missing is not None:
            return missing
        record = found[0]
        if record.kind != "video":
            return _violation("fileId", "The file is not a video", violated_rule="OTHER")
        manifest = "master.m3u8" if fmt == "HLS" else "manifest.mpd"
        kept: int | None = None
        if record.private:
            token = secrets.token_urlsafe(32)
            issued_secrets.append(token)
            url = f"https://files.wix.com/site/media/video/{record.id}/{manifest}?token={token}"
            kept = expiration
        else:
            url = f"https://video.wixstatic.com/video/{record.id}/{fmt.lower()}/{manifest}"
        with self._lock:
            self._issued_streams.append(IssuedStream(record.id, str(fmt), url, kept))
        return web.json_response({"downloadUrl": {"url": url, "assetKey": str(fmt).lower()}})


def _search_query(body: Mapping[str, object]) -> tuple[dict[str, object], web.Response | None]:
    """The search's filters, checked the way Wix documents them."""
    query: dict[str, object] = {}
    search = body.get("search")
    if search is not None and not isinstance(search, str):
        return query, _violation("search", "must be a string", violated_rule="FORMAT")
    if isinstance(search, str) and len(search) > 200:
        return query, _violation(
            "search", "must be at most 200 characters", violated_rule="MAX_LENGTH"
        )
    query["words"] = (search or "").lower().split()
    root = body.get("rootFolder", "MEDIA_ROOT")
    if root not in _SEARCH_ROOTS:
        return query, _violation("rootFolder", "unknown root folder", violated_rule="FORMAT")
    query["root"] = root
    types = body.get("mediaTypes")
    if types is not None:
        if not isinstance(types, list) or any(t not in _SEARCH_MEDIA_TYPES for t in types):
            return query, _violation("mediaTypes", "unknown media type", violated_rule="FORMAT")
        if len(types) > 30:
            return query, _violation(
                "mediaTypes", "must have at most 30 items", violated_rule="MAX_SIZE"
            )
    query["types"] = sorted(types) if types else None
    private = body.get("private")
    if private is not None and not isinstance(private, bool):
        return query, _violation("private", "must be a boolean", violated_rule="FORMAT")
    query["private"] = private
    sort = body.get("sort") or {"fieldName": "updatedDate", "order": "DESC"}
    if (
        not isinstance(sort, dict)
        or sort.get("fieldName") not in _SEARCH_SORT_FIELDS
        or sort.get("order", "ASC") not in ("ASC", "DESC")
    ):
        return query, _violation("sort", "unknown sort field or order", violated_rule="FORMAT")
    query["sort"] = [sort["fieldName"], sort.get("order", "ASC")]
    return query, None


def _matches(record: _File, query: Mapping[str, object]) -> bool:
    if query["root"] != "MEDIA_ROOT":
        return False
    descriptor = record.descriptor
    types = query["types"]
    if isinstance(types, list) and descriptor["mediaType"] not in types:
        return False
    if query["private"] is not None and record.private is not query["private"]:
        return False
    labels = descriptor.get("labels")
    haystack = " ".join(
        [
            str(descriptor.get("displayName", "")),
            str(descriptor.get("mimeType", "")),
            *(str(label) for label in (labels if isinstance(labels, list) else [])),
        ]
    ).lower()
    words = query["words"]
    assert isinstance(words, list)
    return all(word in haystack for word in words)


def _sort_key(descriptor: Mapping[str, object], field_name: str) -> tuple[int, str]:
    value = descriptor.get(field_name)
    if field_name == "sizeInBytes":
        return (int(str(value or 0)), "")
    if field_name == "displayName":
        return (0, str(value or "").lower())
    return (0, str(value or ""))


def _resolve_file_id(raw: str) -> str:
    """A bare id, or the id inside a ``wix:<type>://v1/[ugd/]<id>/<name>#…`` media URL."""
    if raw.startswith("wix:") and "://v1/" in raw:
        rest = raw.split("://v1/", 1)[1].removeprefix("ugd/")
        for stop in ("/", "#"):
            rest = rest.split(stop, 1)[0]
        return unquote(rest)
    return raw


def _check_ids(ids: object, limit: int) -> web.Response | None:
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        return _violation("fileIds", "must be a list of file ids", violated_rule="FORMAT")
    if not 1 <= len(ids) <= limit:
        return _violation(
            "fileIds",
            f"must have between 1 and {limit} items",
            violated_rule="MIN_SIZE" if not ids else "MAX_SIZE",
        )
    if any(len(i) > 1000 for i in ids):
        return _violation("fileIds", "items must be at most 1000 characters", "MAX_LENGTH")
    return None


def _error(
    status: int,
    message: str,
    code: str,
    *,
    description: str | None = None,
    data: Mapping[str, object] | None = None,
) -> web.Response:
    return web.json_response(
        {
            "message": message,
            "details": {
                "applicationError": {
                    "code": code,
                    "description": description or message,
                    "data": dict(data or {}),
                }
            },
        },
        status=status,
    )


def _violation(
    field_name: str,
    description: str,
    violated_rule: str,
    *,
    rule_name: str | None = None,
    data: Mapping[str, object] | None = None,
    message: str | None = None,
) -> web.Response:
    violation: dict[str, object] = {
        "field": field_name,
        "description": description,
        "violatedRule": violated_rule,
        "data": dict(data or {}),
    }
    if rule_name is not None:
        violation["ruleName"] = rule_name
    return web.json_response(
        {
            "message": message or f"{field_name}: {description}",
            "details": {"validationError": {"fieldViolations": [violation]}},
        },
        status=400,
    )


def _invalid_request(field_name: str, description: str) -> web.Response:
    # Real Wix answers carry extra keys such as errorCode (docs/wix.md, Errors).
    return web.json_response(
        {
            "message": "Invalid request message",
            "errorCode": -100,
            "details": {
                "validationError": {
                    "fieldViolations": [{"field": field_name, "description": description}]
                }
            },
        },
        status=400,
    )


def _ietf(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


async def _reshape(
    request: web.Request, response: web.StreamResponse, fault: _Fault
) -> web.StreamResponse:
    """Pad the answer's body with whitespace and/or drip it out slowly (see ``inject``)."""
    assert isinstance(response, web.Response)
    assert isinstance(response.body, bytes)
    body = response.body + b" " * fault.pad_bytes
    if not fault.drip_interval:
        response.body = body
        return response
    streamed = web.StreamResponse(status=response.status, headers=response.headers)
    streamed.headers.pop("Content-Length", None)
    streamed.enable_chunked_encoding()
    await streamed.prepare(request)
    for start in range(0, len(body), fault.drip_chunk):
        await streamed.write(body[start : start + fault.drip_chunk])
        await asyncio.sleep(fault.drip_interval)
    await streamed.write_eof()
    return streamed


def _fault_response(fault: _Fault) -> web.Response:
    assert fault.status is not None
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    body = fault.body
    if body is None:
        if fault.status >= 500:
            # "System errors are sent empty by design" (docs/wix.md, Errors).
            body = {"message": "", "details": {}}
        else:
            code, message = _DEFAULT_CODES.get(fault.status, ("UNKNOWN", "Error"))
            body = {
                "message": message,
                "details": {"applicationError": {"code": code, "description": message}},
            }
    if isinstance(body, str | bytes):
        return web.Response(
            status=fault.status,
            body=body.encode() if isinstance(body, str) else body,
            content_type="text/plain" if body else None,
            headers=headers,
        )
    return web.json_response(body, status=fault.status, headers=headers)


def _descriptor(
    file_id: str, *, kind: str, name: str, private: bool, size: int, renditions: Sequence[str]
) -> dict[str, object]:
    """A FileDescriptor shaped like Wix's (docs/wix.md, File descriptor); private: no media URLs."""

    def media_url(url: str) -> str:
        return "" if private else url

    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    thumbnail = f"https://static.wixstatic.com/media/{file_id.split('.', maxsplit=1)[0]}f002.jpg"
    media: dict[str, object]
    if kind in ("image", "vector"):
        folder = "media" if kind == "image" else "shapes"
        url = f"https://static.wixstatic.com/{folder}/{file_id}"
        image = {
            "id": file_id,
            "url": media_url(url),
            "height": 800,
            "width": 1200,
            "filename": name,
        }
        media = {
            kind: {
                "image": image,
                "colors": {"prominent": {"hex": "#336699"}, "palette": []},
                "faces": [],
                "previewImage": image,
            }
        }
        thumbnail = url
    elif kind == "video":
        url = f"https://video.wixstatic.com/video/{file_id}/file"
        resolutions: list[dict[str, object]] = []
        for key in renditions:
            quality, _, fmt = key.partition(".")
            width, height = _HEIGHTS.get(quality, (0, 0))
            resolutions.append(
                {
                    "url": media_url(
                        f"https://video.wixstatic.com/video/{file_id}/{quality}/{fmt}/file.{fmt}"
                    ),
                    "height": height,
                    "width": width,
                    "format": fmt,
                    "quality": quality,
                    "sizeInBytes": str(size // 2),
                    "filename": f"file.{fmt}",
                }
            )
        resolutions.append(
            {
                "url": media_url(
                    f"https://files.wix.com/site/media/video/{file_id}/{uuid.uuid4()}/repackage/hls"
                ),
                "height": 0,
                "width": 0,
                "format": "hls",
            }
        )
        resolutions.append(
            {
                "url": media_url(
                    f"https://video.wixstatic.com/video/{file_id}/storyboard/144p/mp4/file.mp4"
                ),
                "height": 144,
                "width": 256,
                "format": "mp4",
                "quality": "144p",
            }
        )
        poster = f"https://static.wixstatic.com/media/{file_id}f000.jpg"
        media = {
            "video": {
                "id": file_id,
                "url": media_url(url),
                "filename": name,
                "sizeInBytes": str(size),
                "resolutions": resolutions,
                "posters": [
                    {
                        "id": f"{file_id}f000.jpg",
                        "url": media_url(poster),
                        "height": 720,
                        "width": 1280,
                    }
                ],
            }
        }
        thumbnail = f"https://static.wixstatic.com/media/{file_id}f002.jpg"
    elif kind == "audio":
        url = f"https://static.wixstatic.com/mp3/{file_id}"
        assets = [
            {
                "id": f"{file_id}/{key}",
                "url": media_url(url),
                "filename": key,
                "format": key.rpartition(".")[2],
                "sizeInBytes": str(size),
            }
            for key in renditions
        ]
        media = {
            "audio": {
                "id": file_id,
                "assets": assets,
                "bitrate": 320,
                "format": "mp3",
                "duration": 215,
                "sizeInBytes": str(size),
            }
        }
    else:  # document, archive
        url = _USRFILES + file_id
        media = {
            kind: {"id": file_id, "url": media_url(url), "filename": name, "sizeInBytes": str(size)}
        }
    return {
        "id": file_id,
        "displayName": name,
        "url": url,  # static URL; for a private file it answers 403 (docs/wix.md, Private files)
        "parentFolderId": "media-root",
        "hash": secrets.token_hex(16),
        "sizeInBytes": str(size),
        "private": private,
        "mediaType": _MEDIA_TYPES[kind],
        "media": media,
        "operationStatus": "READY",
        "thumbnailUrl": thumbnail,
        "labels": [],
        "createdDate": now,
        "updatedDate": now,
        "siteId": FakeWix.SITE_ID,
        "state": "OK",
    }
