"""Settings: the only place MediaLink reads the environment (and ``.env``).

Every name here is part of MediaLink's interface; ``.env.example`` documents
each one. A bad value stops start-up with a message that names the variable
and says how to fix it, and never repeats a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.audit.urls import DATABASE_URL_HELP, DEFAULT_DATABASE_URL, normalize_database_url
from bot.durations import DURATION_HELP, WIX_MAX_EXPIRY, format_duration, parse_duration
from bot.inputs import check_web_url
from bot.sites.keys import check_key_list
from bot.wix.limits import DEFAULT_BASE_URL
from bot.wix.ratelimit import DEFAULT_LIMIT, DEFAULT_PERIOD

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_WIX_API_URL = DEFAULT_BASE_URL
# Wix allows 200 requests a minute per site (docs/wix.md, Rate limits).
WIX_RATE_LIMIT_MAX = 200
REDIS_SCHEMES = ("redis", "rediss", "unix")
# SLACK_STATE_SECRET signs the OAuth state: long enough not to be guessed.
MIN_STATE_SECRET = 32


# Between the problems _check_together finds: a line break, which no problem holds.
_PROBLEMS_APART = "\n"


class SettingsError(Exception):
    """The configuration cannot be used; ``str()`` is a message for a person."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"MediaLink is not configured correctly:\n{lines}")


def _duration(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(minutes=value)
    if isinstance(value, str):
        return parse_duration(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# Retention may pass Wix's one-year link bound; parse_duration's own cap (ten years)
# and its units are shared, its words about links are not.
RETENTION_HELP = "a number of days such as 365d (at least 1d, at most 3650d)"
MIN_RETENTION = timedelta(days=1)


def _retention(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = parse_duration(value)
        except ValueError:
            raise ValueError(f"not a retention period; use {RETENTION_HELP}") from None
    if isinstance(value, timedelta) and value < MIN_RETENTION:
        raise ValueError(f"shorter than a day; use {RETENTION_HELP}")
    return value


Retention = Annotated[timedelta, BeforeValidator(_retention)]


OptionalStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
# Secret settings that are URLs: only their password is a secret to the logs.
_URL_SECRETS = frozenset({"database_url", "redis_url"})
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_to_none)]


# The access lists (MEDIALINK_ALLOWED_*, MEDIALINK_ADMINS): comma-separated Slack IDs.
MAX_LIST_ITEMS = 1000  # per list: a bound on start-up work, far above any real roster
_SLACK_ID = re.compile(r"[A-Z0-9]{2,40}")
# The first letter of each kind of Slack ID (docs/slack.md, IDs).
ID_PREFIXES: dict[str, tuple[str, ...]] = {
    "medialink_allowed_teams": ("T", "E"),
    "medialink_allowed_channels": ("C", "G", "D"),
    "medialink_allowed_users": ("U", "W"),
    "medialink_allowed_usergroups": ("S",),
    "medialink_admins": ("U", "W"),
}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")


def _split_list(value: Any) -> Any:
    """``"A, B,,C"`` → ``frozenset({"A", "B", "C"})``; a list or set passes through."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    return value


IdList = Annotated[frozenset[str], NoDecode, BeforeValidator(_split_list)]

ZipAccess = Literal["false", "admins", "everyone"]
PrivateFilesRule = Literal["everyone", "admins", "nobody"]


def _zip_access(value: Any) -> Any:
    # "true" (or any yes) means admins only: the zip link is permanent (docs/wix.md).
    if isinstance(value, bool):
        return "admins" if value else "false"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in {"", "false", "0", "no", "off"}:
            return "false"
        if word in {"true", "1", "yes", "on"}:
            return "admins"
        return word
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _http_url(value: str, *, https_only: bool = False) -> str:
    # The same check as the Slack redirect= option and the button state (bot/inputs.py).
    return check_web_url(value, schemes=("https",) if https_only else ("http", "https"))


@dataclass(frozen=True, slots=True)
class WixApiKeyCredentials:
    api_key: SecretStr
    site_id: str


@dataclass(frozen=True, slots=True)
class WixOAuthCredentials:
    client_id: str
    client_secret: SecretStr
    instance_id: str


WixCredentials = WixApiKeyCredentials | WixOAuthCredentials


class Settings(BaseSettings):
    """MediaLink's configuration, read from the environment and ``.env``."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    # Slack
    slack_bot_token: OptionalSecret = None
    slack_signing_secret: OptionalSecret = None
    slack_app_token: OptionalSecret = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Several workspaces (Slack's OAuth install flow): all three, or none for the single
    # workspace of SLACK_BOT_TOKEN (docs/slack.md, Installing in several workspaces).
    slack_client_id: OptionalStr = None
    slack_client_secret: OptionalSecret = None
    slack_state_secret: OptionalSecret = None

    # Wix: an API key with its site ID, or an OAuth app (client credentials).
    wix_api_key: OptionalSecret = None
    wix_site_id: OptionalStr = None
    wix_client_id: OptionalStr = None
    wix_client_secret: OptionalSecret = None
    wix_instance_id: OptionalStr = None
    wix_api_url: str = DEFAULT_WIX_API_URL
    # Requests to Wix per rolling period, for the whole site (every replica together).
    wix_rate_limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=WIX_RATE_LIMIT_MAX)
    wix_rate_period: float = Field(default=DEFAULT_PERIOD, ge=0.1, le=3600)

    # Links
    medialink_default_expiry: Duration = timedelta(minutes=60)
    medialink_max_expiry: Duration = timedelta(days=7)
    medialink_expiration_redirect_url: OptionalStr = None
    medialink_max_refs: int = Field(default=50, ge=1, le=100)
    medialink_share_enabled: bool = True
    medialink_user_files_per_minute: int = Field(default=100, ge=1, le=10_000)

    # Access policy (bot/policy): an empty list means no restriction of that kind,
    # except MEDIALINK_ALLOWED_TEAMS, where empty means the bot token's own workspace.
    medialink_allowed_teams: IdList = frozenset()
    medialink_allowed_channels: IdList = frozenset()
    medialink_allowed_users: IdList = frozenset()
    medialink_allowed_usergroups: IdList = frozenset()
    medialink_admins: IdList = frozenset()
    medialink_allow_guests: bool = False
    medialink_allow_external: bool = False
    medialink_private_files: Annotated[PrivateFilesRule, BeforeValidator(_lower)] = "admins"
    medialink_redirect_hosts: IdList = frozenset()
    medialink_zip_enabled: Annotated[ZipAccess, BeforeValidator(_zip_access)] = "false"
    # Unfurl posted Wix media URLs (name, type, size, a button); off: no Wix call for them.
    medialink_unfurl: bool = False

    # Audit trail: where every link and refusal is recorded, and for how long.
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)  # may hold a password
    medialink_audit_retention: Retention = timedelta(days=365)

    # Connected Wix sites (bot/sites): the Fernet keys their stored credentials are
    # encrypted with, comma-separated; the first encrypts, every one decrypts.
    medialink_encryption_key: OptionalSecret = None

    # Several replicas: Redis shares Wix's rate limit, the quotas and the OAuth token.
    redis_url: OptionalSecret = None  # may hold a password
    # Replicas expected; while Redis is unreachable each keeps to its share of the limit.
    medialink_replicas: int = Field(default=2, ge=1, le=100)

    # Server
    host: str = "0.0.0.0"  # noqa: S104 - a container listens on every interface by design
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Readable lines, or one JSON object per line for a log collector.
    log_format: Literal["text", "json"] = "text"
    # A port of its own for GET /metrics (then not on PORT); unset: on PORT.
    metrics_port: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, ge=1, le=65535
    )

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url_ends_with_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL, so it must end in "/".
        url = _http_url(value)
        return url if url.endswith("/") else url + "/"

    @field_validator("wix_api_url")
    @classmethod
    def _wix_api_url_without_slash(cls, value: str) -> str:
        return _http_url(value).rstrip("/")

    @field_validator("medialink_expiration_redirect_url")
    @classmethod
    def _redirect_is_https(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value, https_only=True)

    @field_validator(*ID_PREFIXES)
    @classmethod
    def _slack_ids(cls, value: frozenset[str], info: ValidationInfo) -> frozenset[str]:
        prefixes = ID_PREFIXES[str(info.field_name)]
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(f"more than {MAX_LIST_ITEMS} entries")
        bad = sorted(
            item for item in value if not (_SLACK_ID.fullmatch(item) and item.startswith(prefixes))
        )
        if bad:
            raise ValueError(f"{bad[0][:40]!r} is not such an ID")
        return value

    @field_validator("medialink_redirect_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        value = _split_list(value)
        if isinstance(value, frozenset):
            value = frozenset(host.lower().rstrip(".") for host in value)
            if len(value) > MAX_LIST_ITEMS:
                raise ValueError(f"more than {MAX_LIST_ITEMS} entries")
            bad = sorted(host for host in value if not _HOST.fullmatch(host))
            if bad:
                raise ValueError(f"{bad[0][:40]!r} is not a host name")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_supported(cls, value: SecretStr) -> SecretStr:
        return SecretStr(normalize_database_url(value.get_secret_value()))

    @field_validator("redis_url")
    @classmethod
    def _redis_url_supported(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        scheme = urlsplit(value.get_secret_value().strip()).scheme.lower()
        if scheme not in REDIS_SCHEMES:
            raise ValueError("not a Redis URL")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("medialink_encryption_key")
    @classmethod
    def _encryption_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # Checked here so a bad key stops start-up, never the first stored site.
        check_key_list(value.get_secret_value())
        return value

    def log_secrets(self) -> list[str]:
        """What the log filter must redact: every secret setting; of the URL settings
        (DATABASE_URL, REDIS_URL) only the password, so a log may still name the database;
        each of MEDIALINK_ENCRYPTION_KEY's keys on its own."""
        values: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if not isinstance(value, SecretStr):
                continue
            text = value.get_secret_value()
            if name in _URL_SECRETS:
                try:
                    password = urlsplit(text).password
                except ValueError:
                    password = None
                values += [unquote(password)] if password else []
            elif name == "medialink_encryption_key":
                values += [key.strip() for key in text.split(",") if key.strip()]
            else:
                values.append(text)
        return values

    def rate_fallback_limit(self) -> int:
        """Each replica's share of WIX_RATE_LIMIT while Redis cannot be asked."""
        return max(1, self.wix_rate_limit // self.medialink_replicas)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: Any) -> Any:
        return _lower(value)

    @model_validator(mode="after")
    def _check_together(self) -> Settings:
        problems: list[str] = []
        if self.medialink_max_expiry > WIX_MAX_EXPIRY:
            problems.append(
                "MEDIALINK_MAX_EXPIRY is longer than Wix allows (525600 minutes, one year); "
                "set it to 365d or less"
            )
        if self.medialink_default_expiry > self.medialink_max_expiry:
            problems.append(
                "MEDIALINK_DEFAULT_EXPIRY "
                f"({format_duration(self.medialink_default_expiry)}) is longer than "
                f"MEDIALINK_MAX_EXPIRY ({format_duration(self.medialink_max_expiry)}); "
                "shorten the default or raise the maximum"
            )
        redirect = self.medialink_expiration_redirect_url
        if redirect is not None and self.medialink_redirect_hosts:
            host = (urlsplit(redirect).hostname or "").rstrip(".")
            if host not in self.medialink_redirect_hosts:
                problems.append(
                    f"MEDIALINK_EXPIRATION_REDIRECT_URL's host ({host}) is not on "
                    "MEDIALINK_REDIRECT_HOSTS: add it there, or change the address"
                )
        if self.metrics_port is not None and self.metrics_port == self.port:
            problems.append(
                f"METRICS_PORT is the same as PORT ({self.port}); give the metrics a port "
                "of their own, or unset METRICS_PORT to serve them on PORT"
            )
        if self.medialink_user_files_per_minute < self.medialink_max_refs:
            problems.append(
                f"MEDIALINK_USER_FILES_PER_MINUTE ({self.medialink_user_files_per_minute}) is "
                f"less than MEDIALINK_MAX_REFS ({self.medialink_max_refs}), so a full request "
                "could never be made; raise it or lower MEDIALINK_MAX_REFS"
            )
        key_set = {"WIX_API_KEY": self.wix_api_key, "WIX_SITE_ID": self.wix_site_id}
        oauth_set = {
            "WIX_CLIENT_ID": self.wix_client_id,
            "WIX_CLIENT_SECRET": self.wix_client_secret,
            "WIX_INSTANCE_ID": self.wix_instance_id,
        }
        for group in (key_set, oauth_set):
            given = [name for name, value in group.items() if value is not None]
            missing = [name for name, value in group.items() if value is None]
            if given and missing:
                problems.append(
                    f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} set but "
                    f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not; "
                    "set all of them or none"
                )
        problems += self._oauth_problems()
        if self.wix_api_key is not None and self.wix_client_id is not None:
            problems.append(
                "both an API key (WIX_API_KEY) and an OAuth app (WIX_CLIENT_ID) are set; "
                "keep one way of signing in to Wix"
            )
        if problems:
            # One line per problem: load_settings splits on _PROBLEMS_APART, and a
            # problem's own "; " (before its fix) stays on its bullet.
            raise ValueError(_PROBLEMS_APART.join(problems))
        return self

    @property
    def oauth_enabled(self) -> bool:
        """Whether MediaLink serves several workspaces through Slack's OAuth install flow
        (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET all set); False: the
        one workspace of SLACK_BOT_TOKEN."""
        return (
            self.slack_client_id is not None
            and self.slack_client_secret is not None
            and self.slack_state_secret is not None
        )

    def _oauth_problems(self) -> list[str]:
        group = {
            "SLACK_CLIENT_ID": self.slack_client_id,
            "SLACK_CLIENT_SECRET": self.slack_client_secret,
            "SLACK_STATE_SECRET": self.slack_state_secret,
        }
        given = [name for name, value in group.items() if value is not None]
        missing = [name for name, value in group.items() if value is None]
        if given and missing:
            return [
                f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} set but "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not; set all "
                "three to install MediaLink in several workspaces (OAuth), or none for the "
                "single workspace of SLACK_BOT_TOKEN"
            ]
        if not given:
            return []
        problems = []
        assert self.slack_state_secret is not None  # noqa: S101 - all three are set
        if len(self.slack_state_secret.get_secret_value()) < MIN_STATE_SECRET:
            problems.append(
                f"SLACK_STATE_SECRET is shorter than {MIN_STATE_SECRET} characters; use a "
                "long random string such as the output of `openssl rand -hex 32`"
            )
        if self.slack_bot_token is not None:
            problems.append(
                "both SLACK_BOT_TOKEN and SLACK_CLIENT_ID are set; in OAuth mode each "
                "workspace's token comes from its installation: unset SLACK_BOT_TOKEN, or "
                "unset SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET"
            )
        if self.slack_app_token is not None:
            problems.append(
                "SLACK_APP_TOKEN (Socket Mode) is set with SLACK_CLIENT_ID: installing in "
                "several workspaces needs HTTP mode (Slack redirects the installer's browser "
                "to /slack/oauth_redirect); unset SLACK_APP_TOKEN"
            )
        return problems

    # What each part of MediaLink needs, checked where it is needed: `medialink
    # parse` runs with no credentials, `link` needs Wix, `serve` needs both.

    def wix_credentials(self) -> WixCredentials:
        if self.wix_api_key is not None and self.wix_site_id is not None:
            return WixApiKeyCredentials(self.wix_api_key, self.wix_site_id)
        if (
            self.wix_client_id is not None
            and self.wix_client_secret is not None
            and self.wix_instance_id is not None
        ):
            return WixOAuthCredentials(
                self.wix_client_id, self.wix_client_secret, self.wix_instance_id
            )
        raise SettingsError(
            [
                "no Wix credentials: set WIX_API_KEY and WIX_SITE_ID (an API key with the "
                "'Manage Media Manager' permission, from https://manage.wix.com/account/api-keys), "
                "or WIX_CLIENT_ID, WIX_CLIENT_SECRET and WIX_INSTANCE_ID for a Wix app"
            ]
        )

    def slack_problems(self) -> dict[str, str]:
        """What is missing or malformed in the Slack settings, by setting name."""
        found: list[tuple[str, str]] = []
        # In OAuth mode each installation brings its own bot token.
        if not self.oauth_enabled and self.slack_bot_token is None:
            found.append(
                (
                    "SLACK_BOT_TOKEN",
                    "SLACK_BOT_TOKEN is not set; copy the Bot User OAuth Token (xoxb-…) from "
                    "your Slack app's 'OAuth & Permissions' page into .env",
                )
            )
        elif (
            self.slack_bot_token is not None
            and not self.oauth_enabled
            and not self.slack_bot_token.get_secret_value().startswith("xoxb-")
        ):
            found.append(
                (
                    "SLACK_BOT_TOKEN",
                    "SLACK_BOT_TOKEN must be a bot token starting with xoxb-; copy the Bot "
                    "User OAuth Token from your Slack app's 'OAuth & Permissions' page into .env",
                )
            )
        if self.slack_app_token is not None:
            if not self.slack_app_token.get_secret_value().startswith("xapp-"):
                found.append(
                    (
                        "SLACK_APP_TOKEN",
                        "SLACK_APP_TOKEN must be an app-level token starting with xapp- (with "
                        "the connections:write scope, from your Slack app's 'Basic "
                        "Information' page); unset it to use HTTP mode",
                    )
                )
        elif self.slack_signing_secret is None:
            found.append(
                (
                    "SLACK_SIGNING_SECRET",
                    "SLACK_SIGNING_SECRET is not set; copy the Signing Secret from your Slack "
                    "app's 'Basic Information' page into .env (or set SLACK_APP_TOKEN for "
                    "Socket Mode)",
                )
            )
        return dict(found)

    def require_slack(self) -> None:
        problems = self.slack_problems()
        if problems:
            raise SettingsError(list(problems.values()))


_HINTS = {
    "medialink_default_expiry": f"use {DURATION_HELP}",
    "medialink_max_expiry": f"use {DURATION_HELP}",
    "medialink_expiration_redirect_url": "use an https:// URL, or leave it unset",
    "medialink_max_refs": "use a whole number from 1 to 100",
    "medialink_share_enabled": "use true or false",
    "port": "use a port number from 1 to 65535",
    "slack_api_url": "use an http(s) URL such as https://slack.com/api/",
    "slack_client_id": "copy the Client ID from your Slack app's 'Basic Information' page",
    "wix_api_url": f"use an http(s) URL such as {DEFAULT_WIX_API_URL}",
    "log_level": "use DEBUG, INFO, WARNING or ERROR",
    "log_format": "use text or json",
    "metrics_port": "use a port number from 1 to 65535 (not PORT's), or leave it unset",
    "medialink_allowed_teams": "use comma-separated workspace IDs (T…) or org IDs (E…)",
    "medialink_allowed_channels": "use comma-separated conversation IDs (C…, G… or D…)",
    "medialink_allowed_users": "use comma-separated member IDs (U… or W…)",
    "medialink_allowed_usergroups": "use comma-separated user group IDs (S…)",
    "medialink_admins": "use comma-separated member IDs (U… or W…)",
    "medialink_allow_guests": "use true or false",
    "medialink_allow_external": "use true or false",
    "medialink_private_files": "use everyone, admins or nobody",
    "medialink_redirect_hosts": "use comma-separated host names such as example.com",
    "medialink_zip_enabled": "use false, admins or everyone",
    "medialink_unfurl": "use true or false",
    "database_url": DATABASE_URL_HELP,
    "medialink_audit_retention": f"use {RETENTION_HELP}",
    "wix_rate_limit": f"use a whole number from 1 to {WIX_RATE_LIMIT_MAX} (Wix's own limit)",
    "wix_rate_period": "use a number of seconds from 0.1 to 3600 (Wix counts per 60)",
    "redis_url": (
        "use a URL such as redis://redis.internal:6379/0 (rediss:// for TLS, "
        "unix:///path/to/redis.sock), or leave it unset for a single replica"
    ),
    "medialink_replicas": "use a whole number from 1 to 100: how many replicas you run",
    "medialink_encryption_key": (
        "use one or more comma-separated Fernet keys (each 44 characters of URL-safe "
        "base64; make one with `medialink new-key`), the newest first"
    ),
}


_LISTS = frozenset({*ID_PREFIXES, "medialink_redirect_hosts"})


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build Settings, turning validation errors into a SettingsError for people.

    The error names the environment variable and says how to fix it; it never
    repeats the value that was given, since that might be a secret.
    """
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as error:
        problems: list[str] = []
        for detail in error.errors(include_input=False, include_url=False):
            field = str(detail["loc"][0]) if detail["loc"] else ""
            if not field:
                # Cross-field problems from _check_together already name variables.
                message = str(detail["msg"]).removeprefix("Value error, ")
                problems.extend(
                    part.strip() for part in message.split(_PROBLEMS_APART) if part.strip()
                )
                continue
            hint = _HINTS.get(field, "check its value")
            # The access lists hold IDs and host names, never secrets: say which entry.
            detail_msg = str(detail["msg"]).removeprefix("Value error, ")
            which = (
                f" ({detail_msg})" if field in _LISTS and detail["type"] == "value_error" else ""
            )
            problems.append(f"{field.upper()} is not valid{which}; {hint}")
        raise SettingsError(problems) from None
