"""Start-up and ``medialink check`` probes: each setting is checked the same way by both.

A probe returns a ``ProbeResult`` (the setting, the outcome, a sentence for a person)
and never raises for a refused or unreachable service. ``medialink check`` prints every
result; ``medialink serve`` runs the Slack probes before it listens or connects and
refuses to start on a failure (``StartUpRefused``). Every outbound call has a deadline
(``PROBE_TIMEOUT``) and is made once, without retries. Messages never carry a secret,
a signed URL or the WebSocket URL that ``apps.connections.open`` hands out.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import aiohttp
import httpx
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.audit.urls import normalize_database_url, shown_database_url
from bot.config import (
    DEFAULT_SLACK_API_URL,
    DEFAULT_WIX_API_URL,
    Settings,
    SettingsError,
    WixApiKeyCredentials,
    WixCredentials,
)
from bot.services import build_wix_auth
from bot.sites.check import PROBE_FILE_ID, site_readable, wix_status
from bot.sites.keys import Keyring, KeyringError
from bot.sites.schema import wix_sites
from bot.wix.client import RetryPolicy, WixMediaClient
from bot.wix.errors import (
    AccessProblem,
    AuthenticationError,
    BadRequestError,
    ConnectFailure,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    WixAPIError,
    WixConnectionError,
    WixError,
    WixResponseError,
    WixTimeoutError,
    WixUnreachableError,
)

# Seconds any one probe may take, from the first byte sent to the last read.
PROBE_TIMEOUT: Final = 5.0

# slack_sdk logs whole responses at DEBUG (apps.connections.open's is a live WebSocket
# URL); the probes' clients log here, and never below WARNING.
_slack_log = logging.getLogger(__name__ + ".slack")
_slack_log.setLevel(logging.WARNING)

# "bad_setting": missing or malformed, seen without asking anyone (`check` exits 2).
# "failed": the service refused the value, or could not be reached.
# "retry_later": the service had trouble of its own (5xx, rate limited).
Outcome = Literal["ok", "bad_setting", "failed", "retry_later"]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    setting: str  # the setting(s) the result is about, e.g. "SLACK_BOT_TOKEN"
    outcome: Outcome
    message: str  # a sentence that names the setting and, on failure, the fix

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _ok(setting: str, message: str) -> ProbeResult:
    return ProbeResult(setting, "ok", message)


def _failed(setting: str, message: str) -> ProbeResult:
    return ProbeResult(setting, "failed", message)


def _later(setting: str, message: str) -> ProbeResult:
    return ProbeResult(setting, "retry_later", message)


class StartUpRefused(Exception):
    """``serve`` will not start: a start-up probe failed; ``str()`` says what to fix."""

    def __init__(self, failures: Sequence[ProbeResult]) -> None:
        self.failures = tuple(failures)
        lines = "\n".join(f"  - {failure.message}" for failure in self.failures)
        super().__init__(
            f"MediaLink did not start:\n{lines}\nRun `medialink check` to check every setting."
        )

    @property
    def retry_later(self) -> bool:
        """True when only the other side's trouble stopped the start, no setting."""
        return all(failure.outcome == "retry_later" for failure in self.failures)


# -- what `serve` and `check` run --------------------------------------------------------


async def start_up_probes(settings: Settings) -> list[ProbeResult]:
    """The Slack tokens, checked with Slack; ``serve`` has checked their format already."""
    probes = [probe_slack_bot_token(settings)]
    if settings.slack_app_token is not None:
        probes.append(probe_slack_app_token(settings))
    return _unique(await asyncio.gather(*probes))


async def refuse_unless_ready(settings: Settings) -> None:
    """Raise ``StartUpRefused`` unless Slack accepts the tokens ``serve`` would use."""
    failures = [result for result in await start_up_probes(settings) if not result.ok]
    if failures:
        raise StartUpRefused(failures)


async def check_all(settings: Settings) -> list[ProbeResult]:
    """Every setting ``medialink check`` can check, in a fixed order; Wix and Slack at once.

    A setting that is missing or malformed is reported as such and not sent anywhere; the
    others are still checked.
    """
    slack_problems = settings.slack_problems()
    try:
        settings.wix_credentials()
        wix_missing = None
    except SettingsError as error:
        wix_missing = ProbeResult(_wix_label(None), "bad_setting", "; ".join(error.problems))

    wix, bot, app, sites = await asyncio.gather(
        _run_if(wix_missing is None, probe_wix, settings),
        _run_if("SLACK_BOT_TOKEN" not in slack_problems, probe_slack_bot_token, settings),
        _run_if(
            settings.slack_app_token is not None and "SLACK_APP_TOKEN" not in slack_problems,
            probe_slack_app_token,
            settings,
        ),
        probe_sites(settings),
    )
    results = [wix_missing or wix, _static("SLACK_BOT_TOKEN", slack_problems) or bot]
    results.append(describe_mode(settings))
    if settings.slack_app_token is None:
        results.append(
            _static("SLACK_SIGNING_SECRET", slack_problems)
            or _ok("SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET is set (HTTP mode)")
        )
        results.append(
            _ok(
                "SLACK_APP_TOKEN",
                f"SLACK_APP_TOKEN is not set, so MediaLink serves HTTP on "
                f"{settings.host}:{settings.port}",
            )
        )
    else:
        results.append(_static("SLACK_APP_TOKEN", slack_problems) or app)
    results += [describe_unfurl(settings), describe_encryption_key(settings), sites]
    return _unique(result for result in results if result is not None)


def exit_code(results: Iterable[ProbeResult]) -> int:
    """``medialink check``'s exit code: 0 all well, 1 a check failed, 2 bad settings."""
    outcomes = {result.outcome for result in results}
    if "bad_setting" in outcomes:
        return 2
    return 0 if outcomes <= {"ok"} else 1


async def _run_if(
    condition: bool, probe: Callable[[Settings], Awaitable[ProbeResult]], settings: Settings
) -> ProbeResult | None:
    return await probe(settings) if condition else None


def _static(setting: str, problems: dict[str, str]) -> ProbeResult | None:
    problem = problems.get(setting)
    return None if problem is None else ProbeResult(setting, "bad_setting", problem)


def _unique(results: Iterable[ProbeResult]) -> list[ProbeResult]:
    """Drop repeats (both Slack probes failing on the same SLACK_API_URL), keep order."""
    return list(dict.fromkeys(results))


# -- the set-up in force (what `check` reports besides the probes) ----------------------

# Stored sites whose credentials `check` tries to decrypt: a bound on its work.
MAX_SITES_CHECKED: Final = 1000


def describe_mode(settings: Settings) -> ProbeResult:
    """Token or OAuth mode, and what MEDIALINK_ALLOWED_TEAMS means in it."""
    teams = ", ".join(sorted(settings.medialink_allowed_teams))
    if settings.oauth_enabled:
        env_site = (
            f"the environment's Wix site serves {teams} only (MEDIALINK_ALLOWED_TEAMS)"
            if teams
            else "the environment's Wix site serves no workspace (MEDIALINK_ALLOWED_TEAMS is empty)"
        )
        return _ok(
            "SLACK_STATE_SECRET",
            "OAuth mode (several workspaces): installs at /slack/install, Slack's redirect "
            "to /slack/oauth_redirect; each workspace's token comes with its installation, "
            f"and each is served under its own settings; {env_site}",
        )
    over = "Socket Mode" if settings.slack_app_token is not None else "HTTP"
    return _ok(
        "SLACK_BOT_TOKEN",
        f"Token mode (one workspace, SLACK_BOT_TOKEN's, over {over}); MEDIALINK_ALLOWED_TEAMS "
        "names who may use MediaLink, and every workspace served uses the environment's "
        "Wix site",
    )


def describe_unfurl(settings: Settings) -> ProbeResult:
    if settings.medialink_unfurl:
        return _ok(
            "MEDIALINK_UNFURL",
            "MEDIALINK_UNFURL is on: Wix media URLs posted in channels get a preview (one "
            "descriptor call a message) with a download button; the Slack app needs the "
            "link_shared event and the links:read and links:write scopes (the manifest has them)",
        )
    return _ok(
        "MEDIALINK_UNFURL", "MEDIALINK_UNFURL is off: posted Wix media URLs are not unfurled"
    )


def describe_encryption_key(settings: Settings) -> ProbeResult:
    """Whether the key is set and how many keys the list holds; never a key."""
    key = settings.medialink_encryption_key
    if key is None:
        return _ok(
            "MEDIALINK_ENCRYPTION_KEY",
            "MEDIALINK_ENCRYPTION_KEY is not set: admins need it to add Wix sites from Slack "
            "(`medialink new-key` makes one)",
        )
    count = len([part for part in key.get_secret_value().split(",") if part.strip()])
    keys = "1 key" if count == 1 else f"{count} keys; the first encrypts, every one decrypts"
    return _ok("MEDIALINK_ENCRYPTION_KEY", f"MEDIALINK_ENCRYPTION_KEY is set ({keys})")


async def probe_sites(settings: Settings) -> ProbeResult:
    """How many Wix sites are connected (in DATABASE_URL), and whether
    MEDIALINK_ENCRYPTION_KEY opens every one's credentials. Reads only: a database that
    does not exist yet is not created, nor migrated."""
    url = normalize_database_url(settings.database_url.get_secret_value())
    shown = shown_database_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if (
            not database
            or database == ":memory:"
            or not await asyncio.to_thread(Path(database).exists)
        ):
            return _ok("DATABASE_URL", f"no Wix sites connected yet ({shown} does not exist yet)")
    connect_args: dict[str, Any] = (
        {"timeout": PROBE_TIMEOUT, "command_timeout": PROBE_TIMEOUT}
        if url.startswith("postgresql")
        else {"timeout": PROBE_TIMEOUT}
    )
    engine = create_async_engine(url, connect_args=connect_args)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), engine.connect() as connection:
            has_table = await connection.run_sync(
                lambda sync: sa.inspect(sync).has_table(wix_sites.name)
            )
            if not has_table:
                return _ok(
                    "DATABASE_URL",
                    "no Wix sites connected yet (the database is not migrated yet; "
                    "`medialink serve` migrates it at start)",
                )
            counts = (
                await connection.execute(
                    sa.select(sa.func.count(), sa.func.count(sa.distinct(wix_sites.c.tenant)))
                )
            ).one()
            sealed = (
                await connection.scalars(
                    sa.select(wix_sites.c.credentials)
                    .order_by(wix_sites.c.id)
                    .limit(MAX_SITES_CHECKED)
                )
            ).all()
    except Exception as error:
        # Any failure to read is reported, by its type only: a driver's message may quote
        # the URL or the SQL.
        return _failed(
            "DATABASE_URL",
            f"could not read the connected Wix sites from {shown} ({type(error).__name__}); "
            "check DATABASE_URL and that the database answers",
        )
    finally:
        await engine.dispose()
    return _sites_result(settings, int(counts[0]), int(counts[1]), sealed)


def _sites_result(
    settings: Settings, sites: int, tenants: int, sealed: Sequence[str]
) -> ProbeResult:
    if sites == 0:
        return _ok(
            "DATABASE_URL", "no Wix sites connected yet (admins connect them: /medialink sites)"
        )
    connected = (
        f"{sites} Wix site{'s' if sites != 1 else ''} connected, in "
        f"{tenants} workspace{'s' if tenants != 1 else ''}"
    )
    key = settings.medialink_encryption_key
    if key is None:
        return _failed(
            "MEDIALINK_ENCRYPTION_KEY",
            f"{connected}, but MEDIALINK_ENCRYPTION_KEY is not set, so their credentials "
            "cannot be read; set it to the key they were stored with",
        )
    keyring = Keyring(key.get_secret_value())
    unreadable = 0
    for token in sealed:
        try:
            keyring.decrypt(token)
        except KeyringError:
            unreadable += 1
    if unreadable:
        return _failed(
            "MEDIALINK_ENCRYPTION_KEY",
            f"{connected}; {unreadable} of them cannot be decrypted with "
            "MEDIALINK_ENCRYPTION_KEY: put back the key they were stored with (after the "
            "new one) and run `medialink rotate-key`",
        )
    checked = "each" if len(sealed) == sites else f"the first {len(sealed)}"
    return _ok("DATABASE_URL", f"{connected}; {checked} readable with MEDIALINK_ENCRYPTION_KEY")


# -- Slack -------------------------------------------------------------------------------

_SLACK_FIX: Final = {
    "SLACK_BOT_TOKEN": (
        "copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page into .env"
    ),
    "SLACK_APP_TOKEN": (
        "make an app-level token with the connections:write scope on your app's Basic "
        "Information page (App-Level Tokens) and copy it (xapp-…) into .env"
    ),
}
# Slack's codes for a token that was valid once: the app was uninstalled, the token
# revoked or the workspace closed (docs/slack.md, Web API errors).
_SLACK_GONE: Final = frozenset(
    {"token_revoked", "token_expired", "account_inactive", "app_uninstalled", "team_disabled"}
)
_SLACK_TRANSIENT: Final = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
# What a Web API call raises when Slack refuses, cannot be reached, or answers nonsense.
_SLACK_FAILURES: Final = (SlackClientError, aiohttp.ClientError, OSError, TimeoutError, ValueError)


async def probe_slack_bot_token(settings: Settings) -> ProbeResult:
    """``auth.test`` with SLACK_BOT_TOKEN; in OAuth mode, the app's credentials instead
    (each workspace's token comes with its installation)."""
    if settings.oauth_enabled:
        return await probe_slack_oauth(settings)
    token = settings.slack_bot_token
    if token is None:
        return ProbeResult("SLACK_BOT_TOKEN", "bad_setting", "SLACK_BOT_TOKEN is not set")
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            answer = await _slack_client(settings, token.get_secret_value()).auth_test()
    except _SLACK_FAILURES as error:
        return classify_slack_error(error, "SLACK_BOT_TOKEN", "auth.test", settings)
    who = answer.get("user")
    team = answer.get("team")
    where = f" (@{who} in {team})" if isinstance(who, str) and isinstance(team, str) else ""
    return _ok("SLACK_BOT_TOKEN", f"SLACK_BOT_TOKEN is accepted by Slack{where}")


# oauth.v2.access's answer to a made-up code once it has accepted the client's
# credentials (docs/slack.md, Installing in several workspaces; the order of Slack's
# checks is UNCONFIRMED, so "accepted" may be too kind, never too harsh).
_OAUTH_CODE_REFUSED: Final = frozenset({"invalid_code", "invalid_grant_type"})
_OAUTH_CLIENT_REFUSED: Final = frozenset({"invalid_client_id", "bad_client_secret"})


async def probe_slack_oauth(settings: Settings) -> ProbeResult:
    """``oauth.v2.access`` with the app's credentials and a code that cannot exist: Slack
    refusing the code (not the client) means SLACK_CLIENT_ID and SLACK_CLIENT_SECRET hold."""
    client_id, secret = settings.slack_client_id, settings.slack_client_secret
    if client_id is None or secret is None:
        return ProbeResult("SLACK_CLIENT_ID", "bad_setting", "SLACK_CLIENT_ID is not set")
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await _slack_client(settings, None).oauth_v2_access(
                client_id=client_id,
                client_secret=secret.get_secret_value(),
                code="medialink-check",
            )
    except SlackApiError as error:
        data = getattr(error.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        if code in _OAUTH_CODE_REFUSED:
            return _ok(
                "SLACK_CLIENT_ID",
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are accepted by Slack (OAuth mode: "
                "install MediaLink in a workspace at /slack/install)",
            )
        if code in _OAUTH_CLIENT_REFUSED:
            return _failed(
                "SLACK_CLIENT_ID",
                f"Slack refused SLACK_CLIENT_ID or SLACK_CLIENT_SECRET ({code}): copy both "
                "from your Slack app's 'Basic Information' page (App Credentials) into .env",
            )
        return classify_slack_error(error, "SLACK_CLIENT_ID", "oauth.v2.access", settings)
    except _SLACK_FAILURES as error:
        return classify_slack_error(error, "SLACK_CLIENT_ID", "oauth.v2.access", settings)
    return _failed(
        "SLACK_API_URL",
        "Slack accepted a made-up OAuth code; SLACK_API_URL does not answer like Slack",
    )


async def probe_slack_app_token(settings: Settings) -> ProbeResult:
    """``apps.connections.open`` with SLACK_APP_TOKEN, as Socket Mode will call it.

    Slack hands out a WebSocket URL; it is dropped unread (the Socket Mode handler asks
    for its own), so it is never kept, shown or logged.
    """
    token = settings.slack_app_token
    if token is None:
        return ProbeResult("SLACK_APP_TOKEN", "bad_setting", "SLACK_APP_TOKEN is not set")
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await _slack_client(settings, None).apps_connections_open(
                app_token=token.get_secret_value()
            )
    except _SLACK_FAILURES as error:
        return classify_slack_error(error, "SLACK_APP_TOKEN", "apps.connections.open", settings)
    return _ok("SLACK_APP_TOKEN", "SLACK_APP_TOKEN is accepted by Slack (Socket Mode)")


def _slack_client(settings: Settings, token: str | None) -> AsyncWebClient:
    # No retry handlers: one attempt, within PROBE_TIMEOUT.
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=int(PROBE_TIMEOUT),
        logger=_slack_log,
        retry_handlers=[],
    )


def classify_slack_error(
    error: Exception, setting: str, method: str, settings: Settings
) -> ProbeResult:
    """What a failed Slack probe means, for ``setting`` (the token it was made with)."""
    url = _public_url(settings.slack_api_url)
    if isinstance(error, SlackApiError):
        # ``response`` is the SDK's answer, or aiohttp's when the body was not JSON.
        status = getattr(error.response, "status_code", getattr(error.response, "status", None))
        data = getattr(error.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        code = code if isinstance(code, str) else "no error code"
        fix = _SLACK_FIX.get(setting, "check it")
        if code in _SLACK_TRANSIENT or (isinstance(status, int) and status >= 500):
            return _later(
                "SLACK_API_URL",
                f"Slack could not answer {method} ({code}, HTTP {status}); "
                "try again in a few minutes",
            )
        if code in ("invalid_auth", "not_authed"):
            return _failed(setting, f"{setting} was refused by Slack ({code}): {fix}")
        if code in _SLACK_GONE:
            if setting == "SLACK_BOT_TOKEN":
                return _failed(
                    setting,
                    f"{setting} was refused by Slack ({code}): the app was uninstalled or the "
                    "token revoked; reinstall the app from its OAuth & Permissions page and "
                    "copy the new Bot User OAuth Token (xoxb-…) into .env",
                )
            return _failed(setting, f"{setting} was refused by Slack ({code}): {fix}")
        if code == "not_allowed_token_type":
            kind = "a bot token" if setting == "SLACK_BOT_TOKEN" else "an app-level token"
            return _failed(setting, f"{setting} is not {kind} ({code}): {fix}")
        if code == "missing_scope":
            return _failed(setting, f"{setting} lacks a scope {method} needs ({code}): {fix}")
        if code == "unknown_method" or status == 404:
            return _failed(
                "SLACK_API_URL",
                f"SLACK_API_URL ({url}) does not answer like Slack's Web API ({code}); "
                f"check it, or unset it to use {DEFAULT_SLACK_API_URL}",
            )
        return _failed(
            setting,
            f"Slack refused {method} with {setting} ({code}); check the token and, for "
            f"Socket Mode, that Socket Mode is turned on for the app: {fix}",
        )
    if isinstance(error, TimeoutError):
        return _failed(
            "SLACK_API_URL",
            f"SLACK_API_URL ({url}) did not answer {method} within {PROBE_TIMEOUT:g} s; "
            f"check it, or unset it to use {DEFAULT_SLACK_API_URL}",
        )
    if isinstance(error, aiohttp.ClientConnectionError | OSError):
        return _failed(
            "SLACK_API_URL",
            f"cannot connect to SLACK_API_URL ({url}: {_network_reason(error)}); check it, "
            f"or unset it to use {DEFAULT_SLACK_API_URL}",
        )
    return _failed(
        "SLACK_API_URL",
        f"SLACK_API_URL ({url}) did not answer {method} like Slack's Web API "
        f"({type(error).__name__}); check it, or unset it to use {DEFAULT_SLACK_API_URL}",
    )


# -- Wix ---------------------------------------------------------------------------------


async def probe_wix(settings: Settings) -> ProbeResult:
    """Ask Wix for a link to a file no site has, with the configured credentials.

    Reached, authenticated and allowed to ask when Wix answers "not found". UNCONFIRMED
    that Wix checks permission before looking the file up (docs/wix.md, Errors).
    """
    credentials = settings.wix_credentials()
    client = WixMediaClient(
        build_wix_auth(settings),
        base_url=settings.wix_api_url,
        timeout=httpx.Timeout(PROBE_TIMEOUT),
        retry=RetryPolicy(max_attempts=1, total_timeout=PROBE_TIMEOUT),
    )
    try:
        async with asyncio.timeout(2 * PROBE_TIMEOUT):  # at most two calls, below
            try:
                await client.generate_file_download_url(PROBE_FILE_ID, expiration_minutes=1)
            except (NotFoundError, BadRequestError) as error:
                if not _from_wix(error):
                    return _failed(
                        "WIX_API_URL",
                        f"WIX_API_URL ({_public_url(settings.wix_api_url)}) answered "
                        f"HTTP {error.status}, but not as Wix does (no JSON error, no request "
                        f"id); check it, or unset it to use {DEFAULT_WIX_API_URL}",
                    )
            except PermissionDeniedError as error:
                return classify_wix_error(
                    error, settings, site_readable=await site_readable(client)
                )
            except WixError as error:
                return classify_wix_error(error, settings)
    except TimeoutError:
        return classify_wix_error(WixTimeoutError("Wix did not answer in time"), settings)
    finally:
        await client.aclose()
    if isinstance(credentials, WixApiKeyCredentials):
        message = "WIX_API_KEY and WIX_SITE_ID are accepted by Wix for making download links"
    else:
        message = (
            "WIX_CLIENT_ID, WIX_CLIENT_SECRET and WIX_INSTANCE_ID are accepted by Wix for "
            "making download links"
        )
    return _ok(_wix_label(credentials), message)


def _from_wix(error: WixAPIError) -> bool:
    """Whether an error answer looks like Wix's: a JSON body or an ``x-wix-request-id``.

    Any web server answers 404 to an unknown path; Wix's 4xx answers carry a JSON body
    (docs/wix.md, Errors), so a bare 404 means WIX_API_URL is not Wix's API.
    """
    return error.body is not None or error.request_id is not None


def classify_wix_error(
    error: WixError, settings: Settings, *, site_readable: bool | None = None
) -> ProbeResult:
    """What a Wix error means for the settings: the one place that decides it.

    ``site_readable`` is what ``bot.sites.check.site_readable`` found after a 403 (None: not known).
    """
    try:
        credentials: WixCredentials | None = settings.wix_credentials()
    except SettingsError:
        credentials = None
    api_key = isinstance(credentials, WixApiKeyCredentials)
    label = _wix_label(credentials)
    url = _public_url(settings.wix_api_url)
    elsewhere = (
        f"check it, or unset it to use {DEFAULT_WIX_API_URL}"
        if settings.wix_api_url != DEFAULT_WIX_API_URL
        else "check this machine's network and proxy settings"
    )
    if isinstance(error, WixTimeoutError):
        return _failed(
            "WIX_API_URL",
            f"WIX_API_URL ({url}) did not answer in time; {elsewhere}",
        )
    if isinstance(error, WixConnectionError):
        return _failed(
            "WIX_API_URL",
            f"cannot connect to WIX_API_URL ({url}: {_network_reason(error)}); {elsewhere}",
        )
    if isinstance(error, InternalServerError):
        return _later(
            "WIX_API_URL",
            f"Wix answered 5xx ({wix_status(error)}): trouble on Wix's side; "
            "try again in a few minutes",
        )
    if isinstance(error, RateLimitError):
        return _later(
            label,
            f"Wix is limiting requests from these credentials ({wix_status(error)}); "
            "try again in a minute",
        )
    if isinstance(error, AuthenticationError):
        if api_key:
            return _failed(
                "WIX_API_KEY",
                f"WIX_API_KEY was refused by Wix ({wix_status(error)}): make an API key at "
                "https://manage.wix.com/account/api-keys with the 'Manage Media Manager' "
                "permission and copy it into .env",
            )
        return _failed(
            label,
            f"Wix refused the app's credentials ({error.message}; {wix_status(error)}): "
            "check WIX_CLIENT_ID and WIX_CLIENT_SECRET (the app's OAuth page) and "
            "WIX_INSTANCE_ID (the app's installation on the site) in .env",
        )
    if isinstance(error, PermissionDeniedError):
        if not api_key:
            return _failed(
                label,
                f"the Wix app may not make download links ({wix_status(error)}): give it "
                "the 'Manage Media Manager' permission and have the site reinstall it",
            )
        wrong_site = error.access_problem is AccessProblem.WRONG_SITE
        if site_readable or error.access_problem is AccessProblem.MISSING_PERMISSION:
            return _failed(
                "WIX_API_KEY",
                f"WIX_API_KEY may read the site's media but not make download links "
                f"({wix_status(error)}): give the key the 'Manage Media Manager' "
                "permission at https://manage.wix.com/account/api-keys",
            )
        if wrong_site:
            return _failed(
                "WIX_SITE_ID",
                f"Wix refused access to the site WIX_SITE_ID names ({wix_status(error)}): "
                "use the site ID after /dashboard/ in the site dashboard's URL, of a site "
                "of the account that made WIX_API_KEY",
            )
        # UNCONFIRMED how Wix answers a site ID the key's account does not own: the 403
        # it gives a key without Media Manager permissions may look the same
        # (docs/wix.md, Errors).
        return _failed(
            "WIX_SITE_ID, WIX_API_KEY",
            f"Wix refused access ({wix_status(error)}): either WIX_SITE_ID is not a site "
            "of the account that made WIX_API_KEY (the site ID is the part after "
            "/dashboard/ in the site dashboard's URL), or the key lacks the 'Manage Media "
            "Manager' permission (https://manage.wix.com/account/api-keys)",
        )
    if isinstance(error, PreconditionFailedError) and not api_key:
        return _failed(
            "WIX_INSTANCE_ID",
            f"Wix refused ({error.message}; {wix_status(error)}): is the app installed on "
            "the site WIX_INSTANCE_ID names?",
        )
    if isinstance(error, WixAPIError):
        return _failed(label, f"Wix refused the request ({error})")
    if isinstance(error, WixResponseError):
        return _failed(
            "WIX_API_URL",
            f"WIX_API_URL ({url}) answered, but not as Wix does; {elsewhere}",
        )
    return _failed("WIX_API_URL", f"could not call Wix at WIX_API_URL ({url}): {error.message}")


def _wix_label(credentials: WixCredentials | None) -> str:
    if credentials is None:
        return "WIX_API_KEY, WIX_SITE_ID"
    if isinstance(credentials, WixApiKeyCredentials):
        return "WIX_API_KEY"
    return "WIX_CLIENT_ID, WIX_CLIENT_SECRET, WIX_INSTANCE_ID"


# -- helpers -----------------------------------------------------------------------------


def _public_url(url: str) -> str:
    """``url`` without user info, query or fragment: safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


_UNREACHABLE_REASONS = {
    ConnectFailure.DNS: "host name not found",
    ConnectFailure.REFUSED: "connection refused",
    ConnectFailure.TLS: "TLS failed or its certificate was not accepted",
    ConnectFailure.TIMEOUT: "no connection in time",
}


def _network_reason(error: BaseException) -> str:
    """Why a connection failed, in a few words: the client's own reading, else the
    chain of causes."""
    if isinstance(error, WixUnreachableError) and error.reason in _UNREACHABLE_REASONS:
        return _UNREACHABLE_REASONS[error.reason]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, getattr(current, "os_error", None)):
            if isinstance(candidate, ConnectionRefusedError):
                return "connection refused"
            if isinstance(candidate, socket.gaierror):
                return "host name not found"
            if isinstance(candidate, ssl.SSLCertVerificationError):
                return "its TLS certificate was not accepted"
            if isinstance(candidate, ssl.SSLError):
                return "TLS failed"
        current = current.__cause__ or current.__context__
    return type(error).__name__
