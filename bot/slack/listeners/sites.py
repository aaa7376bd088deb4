"""``/medialink sites``: MediaLink's admins connect, test, rename and remove Wix sites,
set their custom domains, and pick a channel's default site, in one modal.

Only admins (MEDIALINK_ADMINS) may; anyone else is told who to ask. A submission is
checked field by field first (``response_action: errors``); then the modal shows
"checking" (the ack), Wix is asked whether new credentials make links on that site
(``bot.sites.check``), the change is saved and recorded in the audit trail (never a
key), and the modal is updated with the outcome (``views.update``). Every replica sees
the change within ``bot.sites.registry.REFRESH_EVERY`` seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent, Entry, Outcome
from bot.sites.check import CheckResult, check_site
from bot.sites.keys import Keyring, KeyringError
from bot.sites.model import (
    ENV_SITE_NAME,
    EVERY_CHANNEL,
    ApiKey,
    AuthKind,
    Credentials,
    SiteInputError,
    WixApp,
    check_app_id,
    check_domains,
    check_name,
    check_secret,
    check_site_id,
    credentials_from_store,
    credentials_to_store,
)
from bot.sites.registry import SiteRegistry, TenantSites
from bot.sites.store import SiteStore, SiteStoreError
from bot.slack.listeners import SlackDeps, ack_with, tenant_of_context, user_id_of
from bot.slack.listeners.history import is_admin_now
from bot.slack.middleware import deps_of
from bot.slack.render import render_notice
from bot.slack.render.sites import (
    ACTION_BLOCK,
    ACTION_SELECT,
    ACTIONS,
    API_KEY_BLOCK,
    APP_ID_BLOCK,
    APP_SECRET_BLOCK,
    CHANNEL_BLOCK,
    CHANNEL_SELECT,
    DOMAINS_BLOCK,
    INSTANCE_BLOCK,
    NAME_BLOCK,
    SITE_BLOCK,
    SITE_ID_BLOCK,
    SITE_SELECT,
    SITES_CALLBACK_ID,
    TEXT_ACTION,
    build_sites_modal,
    build_working_modal,
)

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

SITES_WORD = "sites"
MAX_ERROR_CHARS = 300
_FIELD_BLOCKS = {
    "name": NAME_BLOCK,
    "new_name": NAME_BLOCK,
    "site": SITE_BLOCK,
    "site_id": SITE_ID_BLOCK,
    "api_key": API_KEY_BLOCK,
    "app_id": APP_ID_BLOCK,
    "app_secret": APP_SECRET_BLOCK,
    "instance_id": INSTANCE_BLOCK,
    "domains": DOMAINS_BLOCK,
    "app": APP_ID_BLOCK,
    "action": ACTION_BLOCK,
}
UNAVAILABLE = (
    "Connected sites are not available: MediaLink runs without its sites store. "
    "Ask whoever runs MediaLink."
)


def wants_sites(text: str) -> bool:
    words = text.split()
    return len(words) == 1 and words[0].lower() == SITES_WORD


async def sites_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Open the sites modal for an admin; refuse anyone else, naming the admins."""
    deps = deps_of(context)
    user_id = user_id_of(command)
    if not deps.policy.is_admin(user_id):
        await ack_with(
            ack,
            render_notice(
                "Only MediaLink's admins may connect or change Wix sites. "
                f"Ask {deps.policy.whom_to_ask()}."
            ),
        )
        return
    tenant = tenant_of_context(context)
    if deps.sites is None or tenant is None:
        await ack_with(ack, render_notice(UNAVAILABLE))
        return
    await ack()
    view = await deps.sites.view(tenant)
    try:
        await client.views_open(trigger_id=command["trigger_id"], view=build_sites_modal(view))
    except SlackApiError as error:
        logger.warning("views.open failed: %s", error.response.get("error", "unknown error"))


@dataclass(frozen=True, slots=True)
class _Change:
    action: str
    site: str | None = None  # the existing site the change is about
    name: str | None = None  # a new site's name, or the new name
    site_id: str | None = None
    credentials: Credentials | None = None
    domains: tuple[str, ...] | None = None
    channel: str | None = None


async def submit_sites(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps = deps_of(context)
    user_id = user_id_of(body)
    tenant = tenant_of_context(context)
    registry = deps.sites
    admin = await is_admin_now(deps, context, user_id)  # re-checked: the modal may be old
    if not admin or registry is None or tenant is None:
        await ack(
            response_action="errors",
            errors={
                ACTION_BLOCK: _clip(
                    f"Only MediaLink's admins may change sites. Ask {deps.policy.whom_to_ask()}."
                )
            },
        )
        return
    values = (view.get("state") or {}).get("values") or {}
    sites = await registry.view(tenant)
    try:
        change = _read(values, sites)
    except SiteInputError as error:
        block = _FIELD_BLOCKS.get(error.field, ACTION_BLOCK)
        await ack(response_action="errors", errors={block: _clip(str(error))})
        return
    await ack(response_action="update", view=build_working_modal(_working_text(change)))
    context_of_change = _Context(
        deps, registry, tenant, user_id, sites, _Recorder(deps, tenant, user_id, body)
    )
    status = await _apply(context_of_change, change)
    registry.changed()
    fresh = await registry.view(tenant)
    view_id = view.get("id")
    if not isinstance(view_id, str):
        return
    try:
        await client.views_update(view_id=view_id, view=build_sites_modal(fresh, status=status))
    except SlackApiError as error:
        logger.warning("views.update failed: %s", error.response.get("error", "unknown error"))


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.view(SITES_CALLBACK_ID), submit_sites)


# -- reading the form ------------------------------------------------------------------


def _text(values: dict[str, Any], block_id: str) -> str:
    state = (values.get(block_id) or {}).get(TEXT_ACTION) or {}
    value = state.get("value")
    return value if isinstance(value, str) else ""


def _selected(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    state = (values.get(block_id) or {}).get(action_id) or {}
    option = state.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) and value else None


def _read(values: dict[str, Any], sites: TenantSites) -> _Change:
    """The change asked for, every field it needs checked; raises ``SiteInputError``."""
    action = _selected(values, ACTION_BLOCK, ACTION_SELECT) or "add"
    if action not in ACTIONS:
        raise SiteInputError("action", "Pick what to do from the list.")
    if action == "add":
        return _Change(
            action,
            name=_new_name(values, sites),
            site_id=check_site_id(_text(values, SITE_ID_BLOCK)),
            credentials=_credentials(values),
            domains=check_domains(_text(values, DOMAINS_BLOCK)),
        )
    site = _selected(values, SITE_BLOCK, SITE_SELECT)
    if site is None or site not in sites.sites:
        raise SiteInputError("site", "Pick a site from the list.")
    stored = sites.sites[site].kind is not None
    if action in ("rename", "remove") and not stored:
        raise SiteInputError(
            "site", f"'{ENV_SITE_NAME}' is set in MediaLink's environment; change it there."
        )
    if action == "rename":
        return _Change(action, site=site, name=_new_name(values, sites))
    if action == "domains":
        return _Change(action, site=site, domains=check_domains(_text(values, DOMAINS_BLOCK)))
    if action == "channel":
        state = (values.get(CHANNEL_BLOCK) or {}).get(CHANNEL_SELECT) or {}
        channel = state.get("selected_conversation")
        return _Change(
            action, site=site, channel=channel if isinstance(channel, str) and channel else None
        )
    return _Change(action, site=site)


def _new_name(values: dict[str, Any], sites: TenantSites) -> str:
    name = check_name(_text(values, NAME_BLOCK))
    if name in sites.sites:
        raise SiteInputError(
            "name", f"A site named {name} is already connected; pick another name."
        )
    return name


def _credentials(values: dict[str, Any]) -> Credentials:
    key = _text(values, API_KEY_BLOCK).strip()
    app = [
        _text(values, block).strip() for block in (APP_ID_BLOCK, APP_SECRET_BLOCK, INSTANCE_BLOCK)
    ]
    if key and any(app):
        raise SiteInputError("api_key", "Give an API key or a Wix app's credentials, not both.")
    if key:
        return ApiKey(check_secret(key, "api_key", "Wix API key"))
    if not any(app):
        raise SiteInputError(
            "api_key",
            "Give an API key with the Manage Media Manager permission, or a Wix app's ID, "
            "secret and instance ID.",
        )
    return WixApp(
        check_app_id(app[0], "app_id", "Wix app ID"),
        check_secret(app[1], "app_secret", "Wix app secret"),
        check_app_id(app[2], "instance_id", "Wix app instance ID"),
    )


def _working_text(change: _Change) -> str:
    if change.action in ("add", "test"):
        return "Checking with Wix…"
    return "Saving…"


# -- making the change -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    deps: SlackDeps
    registry: SiteRegistry
    tenant: str
    user_id: str
    sites: TenantSites
    record: _Recorder

    @property
    def base_url(self) -> str:
        return self.registry.env_links.client.base_url

    def store(self) -> SiteStore:
        if self.registry.store is None:
            raise SiteStoreError(UNAVAILABLE)
        return self.registry.store


async def _apply(at: _Context, change: _Change) -> str:
    """Make the change; the modal's status line (✅ done, or why not)."""
    try:
        if change.action == "add":
            return await _add(at, change)
        return await _change_site(at, change)
    except (SiteStoreError, KeyringError) as error:
        at.record.refused(f"{change.action}: {error}")
        return f"⚠️ Nothing was changed: {error}"


def _keyring(at: _Context) -> Keyring:
    keyring = at.registry.keyring()
    if keyring is None:
        raise KeyringError(
            "MEDIALINK_ENCRYPTION_KEY is not set, so no key can be stored or read; ask whoever "
            "runs MediaLink to set it (`medialink new-key` makes one)"
        )
    return keyring


async def _add(at: _Context, change: _Change) -> str:
    name, site_id, credentials = change.name, change.site_id, change.credentials
    if name is None or site_id is None or credentials is None:
        raise SiteStoreError("the form was incomplete")  # _read insists; never reached
    checked = await check_site(site_id, credentials, base_url=at.base_url)
    if not checked.ok:
        at.record.refused(f"site {name} (site ID {site_id}) not added: {checked.message}")
        return _refusal(checked)
    sealed = _keyring(at).encrypt(credentials_to_store(credentials))
    kind = AuthKind.API_KEY if isinstance(credentials, ApiKey) else AuthKind.WIX_APP
    await at.store().add_site(
        tenant=at.tenant,
        name=name,
        site_id=site_id,
        kind=kind,
        sealed=sealed,
        domains=change.domains or (),
        by=at.user_id,
    )
    domains = f"; domains {', '.join(change.domains)}" if change.domains else ""
    at.record.done(Outcome.SITE_ADDED, f"site {name} (site ID {site_id}, {kind.value}){domains}")
    return f"✅ Connected *{name}*. {checked.message}"


async def _change_site(at: _Context, change: _Change) -> str:
    if change.site is None:
        raise SiteStoreError("no site was picked")  # _read insists; never reached
    site = at.sites.sites[change.site]
    if change.action == "test":
        result = await _test(at, site.name)
        at.record.done(
            Outcome.SITE_TESTED, f"site {site.name}: {'ok' if result.ok else result.message}"
        )
        return f"✅ *{site.name}*: {result.message}" if result.ok else _refusal(result)
    store = at.store()
    if change.action == "rename" and change.name is not None:
        await store.rename_site(
            tenant=at.tenant, name=site.name, new_name=change.name, by=at.user_id
        )
        at.record.done(Outcome.SITE_RENAMED, f"site {site.name} renamed {change.name}")
        return f"✅ Renamed *{site.name}* to *{change.name}*."
    if change.action == "remove":
        await store.remove_site(tenant=at.tenant, name=site.name)
        at.record.done(Outcome.SITE_REMOVED, f"site {site.name} (site ID {site.site_id}) removed")
        return f"✅ Removed *{site.name}*: its key is deleted."
    if change.action == "domains":
        await store.set_domains(tenant=at.tenant, name=site.name, domains=change.domains or ())
        shown = ", ".join(change.domains or ()) or "none"
        at.record.done(Outcome.SITE_DOMAINS, f"site {site.name}: domains {shown}")
        return f"✅ *{site.name}*'s custom domains: {shown}."
    channel = change.channel or EVERY_CHANNEL
    await store.set_channel_site(tenant=at.tenant, channel_id=channel, name=site.name)
    where = "every channel" if channel == EVERY_CHANNEL else f"<#{channel}>"
    at.record.done(Outcome.SITE_DEFAULT, f"site {site.name} is the default in {channel}")
    return f"✅ *{site.name}* is now the default site in {where}."


async def _test(at: _Context, name: str) -> CheckResult:
    site = at.sites.sites[name]
    if site.record is None:
        return CheckResult(True, None, "the environment's site; `medialink check` tests it.")
    stored = _keyring(at).decrypt(site.record.sealed)
    credentials = credentials_from_store(site.record.auth_kind, stored)
    return await check_site(site.site_id, credentials, base_url=at.base_url)


def _refusal(result: CheckResult) -> str:
    what = {
        "site_id": "Check the site ID.",
        "api_key": "Check the API key.",
        "app": "Check the Wix app's credentials.",
        "wix": "",
    }.get(result.field or "wix", "")
    return f"⚠️ Not saved. {result.message} {what}".strip()


@dataclass(frozen=True, slots=True)
class _Recorder:
    deps: SlackDeps
    tenant: str
    user_id: str
    body: dict[str, Any]

    def _event(self, outcome: str, reason: str) -> AuditEvent:
        team = self.body.get("team")
        enterprise = self.body.get("enterprise")
        return AuditEvent(
            at=datetime.now(UTC),
            team_id=(team.get("id") if isinstance(team, dict) else None) or self.tenant,
            enterprise_id=enterprise.get("id") if isinstance(enterprise, dict) else None,
            user_id=self.user_id,
            channel_id=None,
            entry=Entry.SITES,
            outcome=outcome,
            reason=reason,
            # Stamped here, not from the request's context: an admin's change to a
            # tenant's sites is that tenant's, whichever task records it.
            tenant_id=self.tenant,
        )

    def done(self, outcome: Outcome, reason: str) -> None:
        self.deps.audit.record([self._event(outcome, reason)])

    def refused(self, reason: str) -> None:
        self.deps.audit.record([self._event(Outcome.REFUSED, reason)])


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
