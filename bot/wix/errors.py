"""Errors raised by the Wix client: one tree, keyed by HTTP status.

Every error carries a ``message`` a person can read. API errors also carry what
Wix sent back (status, ``details.applicationError.code``, field violations, the
``x-wix-request-id`` to quote to Wix support, and the parsed body), so callers
decide on data, not on strings. ``str()`` never includes credentials or signed
download URLs: it is built from Wix's error message, the status, the error code
and the request id only.

Error body shapes (docs/wix.md, Errors; https://dev.wix.com/docs/rest/articles/getting-started/errors)::

    {"message": "...", "details": {"applicationError": {"code": "...", "description": "...",
                                                        "data": {...}}}}
    {"message": "...", "details": {"validationError": {"fieldViolations": [
        {"field": "...", "description": "...", "violatedRule": "...", "ruleName": "...",
         "data": {...}}]}}}

5xx bodies are empty by design (``{"message": "", "details": {}}`` or no body at all),
real bodies carry extra keys (``errorCode``), and the OAuth token endpoint answers
IETF-style (``{"error": "...", "error_description": "..."}``), so parsing is tolerant.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from http import HTTPStatus
from typing import ClassVar

REQUEST_ID_HEADER = "x-wix-request-id"

# Validation rule names Wix uses for the Media Manager calls (docs/wix.md, Errors).
RULE_INVALID_ASSET_KEY = "INVALID_ASSET_KEY"
RULE_RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"


@dataclass(frozen=True)
class FieldViolation:
    """One entry of ``details.validationError.fieldViolations``."""

    field: str | None = None
    description: str | None = None
    violated_rule: str | None = None
    rule_name: str | None = None
    data: Mapping[str, object] | None = None


class WixError(Exception):
    """Base of every error the Wix client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class WixConnectionError(WixError):
    """Wix could not be reached, or the connection broke mid-answer, after retries."""


class ConnectFailure(StrEnum):
    """Why no connection to the Wix API URL could be made."""

    DNS = "dns"  # the host name did not resolve
    REFUSED = "refused"  # nothing listens there
    TLS = "tls"  # the TLS handshake or the certificate check failed
    TIMEOUT = "timeout"  # no connection within the connect timeout
    OTHER = "other"


class WixUnreachableError(WixConnectionError):
    """No connection to the configured Wix API URL could be made at all.

    Unlike a dropped connection, a timeout or a 5xx (``InternalServerError``), this
    usually means WIX_API_URL or the network is wrong, not that Wix is having a bad
    minute; ``reason`` says which part failed.
    """

    def __init__(self, message: str, *, reason: ConnectFailure) -> None:
        super().__init__(message)
        self.reason = reason


class WixTimeoutError(WixConnectionError):
    """Wix did not answer in time, after retries."""


class WixResponseError(WixError):
    """Wix answered with a success status but a body the client cannot read (or too much of one)."""


class AccessProblem(StrEnum):
    """What a refusal of MediaLink's credentials says is wrong, as far as Wix's answer tells."""

    CREDENTIALS_REJECTED = "credentials_rejected"  # wrong, revoked or expired key/secret
    MISSING_PERMISSION = "missing_permission"  # the key or app lacks a permission Wix named
    WRONG_SITE = "wrong_site"  # the site id is not one these credentials can act on
    PERMISSION_OR_SITE = "permission_or_site"  # a 403 that does not say which of the two


class WixAPIError(WixError):
    """Wix answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        description: str | None = None,
        field_violations: Sequence[FieldViolation] = (),
        request_id: str | None = None,
        body: Mapping[str, object] | None = None,
        retry_after: float | None = None,
        access_problem: AccessProblem | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.description = description
        self.field_violations = tuple(field_violations)
        self.request_id = request_id
        self.body = body
        # Seconds Wix asked us to wait (``Retry-After``), if it said; mostly on 429.
        self.retry_after = retry_after
        # Set when the answer refuses MediaLink's credentials or site; None otherwise.
        self.access_problem = access_problem or self.default_access_problem

    default_access_problem: ClassVar[AccessProblem | None] = None

    @property
    def rule_names(self) -> tuple[str, ...]:
        """The ``ruleName`` of every field violation that has one."""
        return tuple(v.rule_name for v in self.field_violations if v.rule_name)

    def __str__(self) -> str:
        extras = [f"HTTP {self.status}"]
        if self.code:
            extras.append(self.code)
        if self.request_id:
            extras.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(extras)})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class BadRequestError(WixAPIError):
    """400: a parameter is wrong or missing, or failed validation."""


class InvalidAssetKeyError(BadRequestError):
    """400 with ``ruleName: INVALID_ASSET_KEY``: the file has no such rendition.

    Wix fails the whole call, so ``asset_keys`` holds the keys that were requested:
    retry them one by one, or fall back to ``src``.
    """

    def __init__(
        self,
        message: str,
        *,
        asset_keys: Sequence[str] = (),
        status: int = 400,
        code: str | None = None,
        description: str | None = None,
        field_violations: Sequence[FieldViolation] = (),
        request_id: str | None = None,
        body: Mapping[str, object] | None = None,
        retry_after: float | None = None,
        access_problem: AccessProblem | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            code=code,
            description=description,
            field_violations=field_violations,
            request_id=request_id,
            body=body,
            retry_after=retry_after,
            access_problem=access_problem,
        )
        self.asset_keys = tuple(asset_keys)


class AuthenticationError(WixAPIError):
    """401 (missing, wrong or expired credentials), and failures of the OAuth token endpoint."""

    default_access_problem = AccessProblem.CREDENTIALS_REJECTED


class PermissionDeniedError(WixAPIError):
    """403: authenticated but not allowed (e.g. an API key without Manage Media Manager).

    ``access_problem`` tells a missing permission from a site the credentials cannot act
    on when Wix's answer says which.
    """

    default_access_problem = AccessProblem.PERMISSION_OR_SITE


class NotFoundError(WixAPIError):
    """404, or a 400 whose violation is ``RESOURCE_NOT_FOUND``.

    Wix's status for an unknown ``fileId`` is UNCONFIRMED (docs/wix.md, Get File Descriptor),
    so both map here.
    """


class ConflictError(WixAPIError):
    """409: already exists, or revision mismatch."""


class PreconditionFailedError(WixAPIError):
    """428: precondition required (e.g. the app is not installed on the site)."""


class RateLimitError(WixAPIError):
    """429: too many requests (Wix documents 200/min per app instance).

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one
    (UNCONFIRMED that Wix does, docs/wix.md, Rate limits).
    """


class InternalServerError(WixAPIError):
    """5xx: a Wix-side failure; Wix says to try again later."""


_BY_STATUS: dict[int, type[WixAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    428: PreconditionFailedError,
    429: RateLimitError,
}


def error_from_response(
    status: int,
    body: object,
    headers: Mapping[str, str],
    requested_asset_keys: Sequence[str] = (),
) -> WixAPIError:
    """Build the right ``WixAPIError`` subclass from an error answer.

    ``body`` is the decoded JSON (anything, or None when the body was empty or not
    JSON); ``headers`` may be any mapping (``httpx.Headers`` is case-insensitive,
    plain dicts are searched case-insensitively).
    """
    answer = _read_answer(body)
    cls = _error_class(status, answer.rule_names)
    error = cls(
        answer.message or _default_message(status),
        status=status,
        code=answer.code,
        description=answer.description,
        field_violations=answer.violations,
        request_id=_header(headers, REQUEST_ID_HEADER),
        body=answer.body,
        retry_after=parse_retry_after(_header(headers, "retry-after")),
        access_problem=_access_problem(status, answer),
    )
    if isinstance(error, InvalidAssetKeyError):
        error.asset_keys = tuple(requested_asset_keys)
    return error


@dataclass(frozen=True)
class _Answer:
    """What an error body says, read tolerantly (any part may be missing)."""

    body: Mapping[str, object] | None
    message: str | None
    code: str | None
    description: str | None
    violations: tuple[FieldViolation, ...]

    @property
    def rule_names(self) -> frozenset[str]:
        return frozenset(v.rule_name for v in self.violations if v.rule_name)


def _read_answer(body: object) -> _Answer:
    mapping = _mapping(body)
    details = _mapping(_get(mapping, "details"))
    app_error = _mapping(_get(details, "applicationError"))
    validation = _mapping(_get(details, "validationError"))
    violations = _violations(_get(validation, "fieldViolations"))
    code = _text(_get(app_error, "code"))
    description = _text(_get(app_error, "description"))
    message = _text(_get(mapping, "message"))
    if mapping is not None and not message:
        # OAuth token endpoint: IETF-style {"error": ..., "error_description": ...}.
        message = _text(mapping.get("error_description"))
        code = code or _text(mapping.get("error"))
    if not message:
        message = description or next((v.description for v in violations if v.description), None)
    return _Answer(mapping, message, code, description, violations)


def _error_class(status: int, rules: frozenset[str]) -> type[WixAPIError]:
    if status == 400 and RULE_INVALID_ASSET_KEY in rules:
        return InvalidAssetKeyError
    if status == 400 and RULE_RESOURCE_NOT_FOUND in rules:
        return NotFoundError
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, WixAPIError)


# A permission id as Wix names them (MEDIA.SITE_MEDIA_FILES_READ, SCOPE.DC-MEDIA.READ-…).
_PERMISSION_ID = re.compile(r"\b[A-Z][A-Z0-9_-]*(?:\.[A-Z0-9_-]+)+\b")
_PERMISSION_WORDS = re.compile(r"missing permission|\bscopes?\b", re.IGNORECASE)
_SITE_WORDS = re.compile(r"\b(?:meta)?site\b", re.IGNORECASE)


def _access_problem(status: int, answer: _Answer) -> AccessProblem | None:
    """Which credential setting a refusal points at, as far as the answer says.

    What Wix answers for a site id the key cannot act on is UNCONFIRMED (docs/wix.md,
    Authentication): it may be a 401, a 403, or a 428 ``MISSING_METASITE_ID`` when no
    site is found. So every signal counts: a site-shaped error code first, then a 401/403
    whose wording names a permission or the site; a 403 that names neither stays
    ``PERMISSION_OR_SITE`` rather than guessing.
    """
    code = (answer.code or "").upper()
    if "METASITE" in code or "SITE_NOT_FOUND" in code:
        return AccessProblem.WRONG_SITE
    if status not in (401, 403):
        return None
    text = " ".join(t for t in (answer.message, answer.description) if t)
    if _PERMISSION_ID.search(text) or _PERMISSION_WORDS.search(text):
        return AccessProblem.MISSING_PERMISSION
    if _SITE_WORDS.search(text):
        return AccessProblem.WRONG_SITE
    if status == 401:
        return AccessProblem.CREDENTIALS_REJECTED
    return AccessProblem.PERMISSION_OR_SITE


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP-date).

    Returns None when absent or unreadable; never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _default_message(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    return f"Wix answered HTTP {status} ({phrase}) without an error message"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _get(mapping: Mapping[str, object] | None, key: str) -> object:
    return None if mapping is None else mapping.get(key)


def _mapping(value: object) -> Mapping[str, object] | None:
    return value if isinstance(value, Mapping) else None


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _violations(value: object) -> tuple[FieldViolation, ...]:
    if not isinstance(value, list):
        return ()
    result = []
    for item in value:
        entry = _mapping(item)
        if entry is None:
            continue
        result.append(
            FieldViolation(
                field=_text(entry.get("field")),
                description=_text(entry.get("description")),
                violated_rule=_text(entry.get("violatedRule")),
                rule_name=_text(entry.get("ruleName")),
                data=_mapping(entry.get("data")),
            )
        )
    return tuple(result)


def transport_failure(error: BaseException) -> str | None:
    """How a call that got no answer from Wix failed: ``timeout``, ``unreachable`` (no
    connection could be made) or ``connection`` (one was lost); None for anything else.
    The metrics' status label and the audit record's outcome both read it."""
    if isinstance(error, WixTimeoutError):
        return "timeout"
    if isinstance(error, WixUnreachableError):
        return "unreachable"
    if isinstance(error, WixConnectionError):
        return "connection"
    return None
