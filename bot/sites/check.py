"""Before a site is saved: do these credentials make links on that site?

The same two questions ``medialink check`` asks of the environment's site
(``bot.preflight``): a link for a file no site has (answered "not found" when the
credentials may make links), and after a 403 a descriptor lookup, which a key without
the Manage Media Manager permission may still make. So a wrong site ID is told apart
from a key without the permission, each with its own sentence naming the field to fix.
One attempt, within ``CHECK_TIMEOUT``; nothing here logs a key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final, Literal

import httpx

from bot.sites.model import ApiKey, Credentials
from bot.wix.auth import ApiKeyAuth, OAuthClientCredentials, WixAuth
from bot.wix.client import PATH_OAUTH_TOKEN, RetryPolicy, WixMediaClient
from bot.wix.errors import (
    AccessProblem,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    WixAPIError,
    WixConnectionError,
    WixError,
    WixTimeoutError,
)

CHECK_TIMEOUT: Final = 5.0
# A well-formed file ID that no site has: the probe asks Wix for a link to it, so the
# answer shows whether the credentials may generate links at all.
PROBE_FILE_ID: Final = "000000_00000000000000000000000000000000~mv2.jpg"

Field = Literal["site_id", "api_key", "app", "wix"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    field: Field | None  # the input to fix; "wix": nothing to fix, try again later
    message: str


OK = CheckResult(True, None, "Wix accepts these credentials for making download links.")


def site_auth(site_id: str, credentials: Credentials, *, base_url: str) -> WixAuth:
    if isinstance(credentials, ApiKey):
        return ApiKeyAuth(credentials.api_key, site_id)
    return OAuthClientCredentials(
        credentials.app_id,
        credentials.app_secret,
        credentials.instance_id,
        token_url=base_url + PATH_OAUTH_TOKEN,
    )


async def check_site(site_id: str, credentials: Credentials, *, base_url: str) -> CheckResult:
    """Whether Wix lets ``credentials`` make links on ``site_id``, and if not, why."""
    client = WixMediaClient(
        site_auth(site_id, credentials, base_url=base_url),
        base_url=base_url,
        timeout=httpx.Timeout(CHECK_TIMEOUT),
        retry=RetryPolicy(max_attempts=1, total_timeout=CHECK_TIMEOUT),
    )
    api_key = isinstance(credentials, ApiKey)
    try:
        async with asyncio.timeout(2 * CHECK_TIMEOUT):  # at most two calls
            try:
                await client.generate_file_download_url(PROBE_FILE_ID, expiration_minutes=1)
            except (NotFoundError, BadRequestError):
                return OK
            except PermissionDeniedError as error:
                readable = await site_readable(client)
                return _refused(error, api_key=api_key, readable=readable)
            except WixError as error:
                return _refused(error, api_key=api_key, readable=None)
    except TimeoutError:
        return _refused(
            WixTimeoutError("Wix did not answer in time"), api_key=api_key, readable=None
        )
    finally:
        await client.aclose()
    return OK


async def site_readable(client: WixMediaClient) -> bool | None:
    """After a 403 on link making: may these credentials read the site's Media Manager?

    True when Wix answers a file lookup with "not found", False on another 403, None
    when the answer says neither.
    """
    try:
        await client.get_file_descriptor(PROBE_FILE_ID)
    except (NotFoundError, BadRequestError):
        return True
    except PermissionDeniedError:
        return False
    except WixError:
        return None
    return True


def wix_status(error: WixAPIError) -> str:
    return f"HTTP {error.status}" + (f", request id {error.request_id}" if error.request_id else "")


def _refused(error: WixError, *, api_key: bool, readable: bool | None) -> CheckResult:
    if isinstance(error, WixTimeoutError | WixConnectionError):
        return CheckResult(False, "wix", "Wix could not be reached to check the site; try again.")
    if isinstance(error, RateLimitError | InternalServerError):
        return CheckResult(
            False,
            "wix",
            f"Wix had trouble checking the site ({wix_status(error)}); try again later.",
        )
    if isinstance(error, AuthenticationError):
        if api_key:
            return CheckResult(
                False,
                "api_key",
                f"Wix refused this API key ({wix_status(error)}): it is wrong, revoked, or from "
                "another Wix account. Make one at https://manage.wix.com/account/api-keys.",
            )
        return CheckResult(
            False,
            "app",
            f"Wix refused the app's credentials ({wix_status(error)}): check the app ID, the "
            "app secret and the instance ID.",
        )
    if isinstance(error, PermissionDeniedError):
        if not api_key:
            return CheckResult(
                False,
                "app",
                f"The Wix app may not make download links ({wix_status(error)}): give it the "
                "'Manage Media Manager' permission and have the site reinstall it.",
            )
        if readable or error.access_problem is AccessProblem.MISSING_PERMISSION:
            return CheckResult(
                False,
                "api_key",
                f"This API key may not make download links ({wix_status(error)}): give it the "
                "'Manage Media Manager' permission at https://manage.wix.com/account/api-keys.",
            )
        if error.access_problem is AccessProblem.WRONG_SITE:
            return CheckResult(
                False,
                "site_id",
                f"Wix refused access to this site ID ({wix_status(error)}): use the ID after "
                "/dashboard/ in the site dashboard's address, of a site of the account that "
                "made the key.",
            )
        return CheckResult(
            False,
            "site_id",
            f"Wix refused access ({wix_status(error)}): either the site ID is not a site of the "
            "account that made the key, or the key lacks the 'Manage Media Manager' "
            "permission.",
        )
    if isinstance(error, PreconditionFailedError):
        return CheckResult(
            False,
            "app" if not api_key else "site_id",
            f"Wix refused ({wix_status(error)}): is the app installed on that site, and is the "
            "site ID right?",
        )
    if isinstance(error, WixAPIError):
        return CheckResult(False, "wix", f"Wix refused the check ({wix_status(error)}).")
    return CheckResult(False, "wix", "Wix's answer could not be read; try again later.")
