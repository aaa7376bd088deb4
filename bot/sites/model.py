"""What a connected site is, and the shapes its fields must have.

Every value an admin types (a name, a site ID, a domain, credentials) is checked here
before anything is stored or sent to Wix, with a sentence that says what to type.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from pydantic import SecretStr

from bot.wix.errors import WixError
from bot.wix.fairness import WixBusyError

# The environment's WIX_* site, as every list and reply names it.
ENV_SITE_NAME: Final = "default"
# A workspace-wide default site is stored as the default of this "channel".
EVERY_CHANNEL: Final = "*"

MAX_NAME = 40
MAX_SITES_PER_TENANT: Final = 100
MAX_DOMAINS_PER_SITE: Final = 20
MAX_DOMAIN = 253
MAX_CREDENTIAL = 2000  # characters of one key or secret; real API keys are about 1 kB
MAX_ID = 64  # Slack IDs, app IDs

_NAME = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?")
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,{MAX_DOMAIN}}}$){_LABEL}(?:\.{_LABEL})+")
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
# Wix's own hosts never name a client's site (docs/wix.md, URL forms).
WIX_HOSTS: Final = (
    "wix.com",
    "wixsite.com",
    "wixstudio.com",
    "wixstatic.com",
    "wixmp.com",
    "usrfiles.com",
    "filesusr.com",
    "editorx.io",
)

NAME_HELP = f"a name of 1 to {MAX_NAME} lower-case letters, digits, '-' or '_', such as acme-shop"
SITE_ID_HELP = (
    "the site ID: the GUID after /dashboard/ in the site dashboard's address, such as "
    "2f1a6a5e-1234-4000-8000-00000000a11e"
)


class AuthKind(enum.StrEnum):
    API_KEY = "api_key"
    WIX_APP = "wix_app"


class SiteInputError(ValueError):
    """An admin's value has the wrong shape; ``field`` names the input, ``str()`` says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def check_name(value: str, field_name: str = "name") -> str:
    name = value.strip().lower()
    if not _NAME.fullmatch(name):
        raise SiteInputError(field_name, f"Use {NAME_HELP}.")
    if name == ENV_SITE_NAME:
        raise SiteInputError(
            field_name, f"'{ENV_SITE_NAME}' is the environment's site; pick another name."
        )
    return name


def check_site_id(value: str) -> str:
    site_id = value.strip().lower()
    if not _GUID.fullmatch(site_id):
        raise SiteInputError("site_id", f"That is not a site ID. Use {SITE_ID_HELP}.")
    return site_id


def check_domain(value: str) -> str:
    domain = value.strip().lower().rstrip(".")
    for prefix in ("https://", "http://"):
        domain = domain.removeprefix(prefix)
    domain = domain.split("/", 1)[0]
    if not _DOMAIN.fullmatch(domain):
        shown = value.strip()[:60]
        raise SiteInputError(
            "domains", f"'{shown}' is not a domain; use one such as www.client.com."
        )
    if is_wix_host(domain):
        raise SiteInputError(
            "domains", f"{domain} is Wix's own address, not a site's domain; leave it out."
        )
    return domain


def check_domains(text: str) -> tuple[str, ...]:
    """Domains typed one per line or comma-separated; duplicates dropped, order kept."""
    parts = [
        part for part in re.split(r"[\s,]+", text[: MAX_DOMAIN * MAX_DOMAINS_PER_SITE * 2]) if part
    ]
    if len(parts) > MAX_DOMAINS_PER_SITE:
        raise SiteInputError("domains", f"Give at most {MAX_DOMAINS_PER_SITE} domains per site.")
    return tuple(dict.fromkeys(check_domain(part) for part in parts))


def check_secret(value: str, field_name: str, what: str) -> SecretStr:
    text = value.strip()
    if not text:
        raise SiteInputError(field_name, f"Give the {what}.")
    if len(text) > MAX_CREDENTIAL or not _PRINTABLE.fullmatch(text):
        # Never repeat the value: it is a secret, or was meant to be one.
        raise SiteInputError(field_name, f"That does not look like a {what}; paste it again.")
    return SecretStr(text)


def check_app_id(value: str, field_name: str, what: str) -> str:
    text = value.strip().lower()
    if not _GUID.fullmatch(text):
        raise SiteInputError(field_name, f"That is not a {what}; it is a GUID such as {_EXAMPLE}.")
    return text


_EXAMPLE = "6f1c8a52-1234-4000-8000-0000000c11e7"


def is_wix_host(host: str) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in WIX_HOSTS)


@dataclass(frozen=True, slots=True)
class ApiKey:
    api_key: SecretStr


@dataclass(frozen=True, slots=True)
class WixApp:
    app_id: str
    app_secret: SecretStr
    instance_id: str


Credentials = ApiKey | WixApp


def credentials_to_store(credentials: Credentials) -> dict[str, str]:
    if isinstance(credentials, ApiKey):
        return {"api_key": credentials.api_key.get_secret_value()}
    return {
        "app_id": credentials.app_id,
        "app_secret": credentials.app_secret.get_secret_value(),
        "instance_id": credentials.instance_id,
    }


def credentials_from_store(kind: AuthKind, data: dict[str, str]) -> Credentials:
    if kind is AuthKind.API_KEY:
        return ApiKey(SecretStr(data["api_key"]))
    return WixApp(data["app_id"], SecretStr(data["app_secret"]), data["instance_id"])


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """One connected site as stored; ``sealed`` is its encrypted credentials."""

    tenant: str
    name: str
    site_id: str
    auth_kind: AuthKind
    sealed: str = field(repr=False)
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None
    row_id: int = 0

    @property
    def version(self) -> tuple[int, datetime]:
        """What tells a changed row apart: its client is rebuilt when this changes."""
        return (self.row_id, self.updated_at)


class SiteKeyUnreadableError(WixError):
    """A connected site's stored credentials cannot be opened on this server (no or the
    wrong MEDIALINK_ENCRYPTION_KEY): trying again will not help, so ``str()`` says whom
    to ask rather than to retry."""

    def __init__(self, site: str) -> None:
        super().__init__(
            f"The Wix site {site}'s key cannot be read on this MediaLink server, so no link "
            "can be made there. Ask whoever runs MediaLink to check MEDIALINK_ENCRYPTION_KEY."
        )
        self.site = site


class SiteChoiceError(WixBusyError):
    """No site can serve the request (none connected, or an unknown ``site=`` name): no
    work is taken on, like a busy refusal, and ``str()`` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
