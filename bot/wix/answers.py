"""Reading Wix's answers: the body streamed up to a size cap, then decoded as JSON."""

from __future__ import annotations

import json

import httpx

from bot.wix.errors import REQUEST_ID_HEADER, WixResponseError
from bot.wix.limits import MAX_RESPONSE_BYTES


async def read_body(response: httpx.Response, what: str, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The whole (decoded) body of a streamed ``response``, or ``WixResponseError`` past ``limit``.

    ``what`` names the call in the error ("POST /site-media/…"); the body never appears.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(response, what, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _too_large(response, what, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(raw: bytes) -> object:
    """The JSON value of ``raw``, or None when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:  # UnicodeDecodeError included
        return None


def _too_large(response: httpx.Response, what: str, limit: int) -> WixResponseError:
    return WixResponseError(
        f"Wix's answer to {what} was too large: more than {limit // 1024} KiB, the most"
        f" MediaLink reads (HTTP {response.status_code},"
        f" request id {response.headers.get(REQUEST_ID_HEADER)})"
    )
