"""Errors raised by the Wix client: one tree, keyed by HTTP status.

Every error carries a ``message`` a person can read. API errors also carry what
Wix sent back (status, ``details.applicationError.code``, field violations, the
``x-wix-request-id`` to quote to Wix support, and the parsed body), so callers
decide on data, not on strings. ``str()`` never includes credentials or signed
download URLs: it is built from Wix's error message, the status, the error code
and the request id only.

Error body shapes (contract §4, from https://dev.wix.com/docs/rest/articles/getting-started/errors)::

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus

REQUEST_ID_HEADER = "x-wix-request-id"

# Validation rule names Wix uses for the Media Manager calls (contract §3, SDK typings).
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
    """Wix could not be reached (connection refused, reset or dropped), after retries."""


class WixTimeoutError(WixConnectionError):
    """Wix did not answer in time, after retries."""


class WixResponseError(WixError):
    """Wix answered with a success status but a body the client cannot read."""


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
        )
        self.asset_keys = tuple(asset_keys)


class AuthenticationError(WixAPIError):
    """401 (missing, wrong or expired credentials), and failures of the OAuth token endpoint."""


class PermissionDeniedError(WixAPIError):
    """403: authenticated but not allowed (e.g. an API key without Manage Media Manager)."""


class NotFoundError(WixAPIError):
    """404, or a 400 whose violation is ``RESOURCE_NOT_FOUND``.

    Which status Wix uses for a nonexistent ``fileId`` is UNCONFIRMED (contract §3.3, §9),
    so both map here.
    """


class ConflictError(WixAPIError):
    """409: already exists, or revision mismatch."""


class PreconditionFailedError(WixAPIError):
    """428: precondition required (e.g. the app is not installed on the site)."""


class RateLimitError(WixAPIError):
    """429: too many requests (Wix documents 200/min per app instance).

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one
    (UNCONFIRMED that Wix does, contract §5).
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
    mapping = body if isinstance(body, Mapping) else None
    details = _mapping(mapping.get("details")) if mapping else None
    app_error = _mapping(details.get("applicationError")) if details else None
    validation = _mapping(details.get("validationError")) if details else None

    code = _text(app_error.get("code")) if app_error else None
    description = _text(app_error.get("description")) if app_error else None
    violations = _violations(validation.get("fieldViolations")) if validation else ()

    message = _text(mapping.get("message")) if mapping else None
    if mapping and not message:
        # OAuth token endpoint: IETF-style {"error": ..., "error_description": ...}.
        message = _text(mapping.get("error_description"))
        code = code or _text(mapping.get("error"))
    if not message:
        message = description or next((v.description for v in violations if v.description), None)
    if not message:
        message = _default_message(status)

    request_id = _header(headers, REQUEST_ID_HEADER)
    retry_after = parse_retry_after(_header(headers, "retry-after"))
    rules = {v.rule_name for v in violations if v.rule_name}

    if status == 400 and RULE_INVALID_ASSET_KEY in rules:
        return InvalidAssetKeyError(
            message,
            asset_keys=requested_asset_keys,
            status=status,
            code=code,
            description=description,
            field_violations=violations,
            request_id=request_id,
            body=mapping,
            retry_after=retry_after,
        )
    cls: type[WixAPIError]
    if status == 400 and RULE_RESOURCE_NOT_FOUND in rules:
        cls = NotFoundError
    elif status >= 500:
        cls = InternalServerError
    else:
        cls = _BY_STATUS.get(status, WixAPIError)
    return cls(
        message,
        status=status,
        code=code,
        description=description,
        field_violations=violations,
        request_id=request_id,
        body=mapping,
        retry_after=retry_after,
    )


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
