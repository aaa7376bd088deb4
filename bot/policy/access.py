"""Who may use MediaLink: a pure function of the request's identity and the settings.

``AccessPolicy.decide(identity)`` answers ``Allowed`` or a ``Refusal`` that says why and
whom to ask (the admins, by mention). It makes no call: the facts that need Slack (guest
or not, the user's own organisation, user groups) come in ``Identity``, gathered by
``bot.policy.directory.Directory``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from bot.durations import format_duration
from bot.policy.rules import LinkRules

if TYPE_CHECKING:
    from bot.config import Settings


class PrivateFiles(StrEnum):
    """Who may make links to files Wix marks private."""

    EVERYONE = "everyone"  # every allowed person
    ADMINS = "admins"
    NOBODY = "nobody"


class ZipAccess(StrEnum):
    """Who may use "Download all as zip" (a permanent link, public files only)."""

    OFF = "false"
    ADMINS = "admins"
    EVERYONE = "everyone"


class Reason(StrEnum):
    """Why a request was refused: a short code for the audit trail and the logs."""

    TEAM = "team_not_allowed"
    EXTERNAL = "external_user"
    GUEST = "guest"
    CHANNEL = "channel_not_allowed"
    USER = "user_not_allowed"
    UNKNOWN_USER = "user_unknown"  # deactivated, or Slack would not say who
    UNAVAILABLE = "directory_unavailable"  # Slack could not be asked: fail closed
    ADMINS_ONLY = "admins_only"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who asks, and from where. ``None`` for a fact means "not known" (refused where
    the policy needs it)."""

    user_id: str
    team_id: str | None  # the workspace the request came through
    enterprise_id: str | None = None
    channel_id: str | None = None
    channel_pending: bool = False  # the conversation is chosen later (the form's picker)
    user_team_id: str | None = None  # the user's own workspace (or org, E…)
    user_enterprise_id: str | None = None
    guest: bool | None = None
    deleted: bool = False
    groups: frozenset[str] = frozenset()  # the policy's user groups the user is in


@dataclass(frozen=True, slots=True)
class Allowed:
    admin: bool

    @property
    def allowed(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why not, as a code (``reason``) and a sentence for the person (``message``)."""

    reason: Reason
    message: str

    @property
    def allowed(self) -> bool:
        return False


Decision = Allowed | Refusal

NO_ADMINS: Final = "whoever runs MediaLink in your workspace"
SLACK_ADMINS: Final = "an admin or owner of this Slack workspace"


@dataclass(frozen=True, slots=True)
class AccessSettings:
    """The policy's settings (``MEDIALINK_ALLOWED_*`` and the rest), read once at start."""

    allowed_teams: frozenset[str] = frozenset()  # empty: the bot token's own workspace
    allowed_channels: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()
    allowed_usergroups: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    allow_guests: bool = False
    allow_external: bool = False
    private_files: PrivateFiles = PrivateFiles.ADMINS
    share_enabled: bool = True
    zip: ZipAccess = ZipAccess.OFF

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessSettings:
        return cls(
            allowed_teams=settings.medialink_allowed_teams,
            allowed_channels=settings.medialink_allowed_channels,
            allowed_users=settings.medialink_allowed_users,
            allowed_usergroups=settings.medialink_allowed_usergroups,
            admins=settings.medialink_admins,
            allow_guests=settings.medialink_allow_guests,
            allow_external=settings.medialink_allow_external,
            private_files=PrivateFiles(settings.medialink_private_files),
            share_enabled=settings.medialink_share_enabled,
            zip=ZipAccess(settings.medialink_zip_enabled),
        )


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Every rule of who may, and every link rule (``rules``), in one object.

    ``home`` is the workspace (and org) the bot token belongs to, from ``auth.test``:
    the allowed teams when ``MEDIALINK_ALLOWED_TEAMS`` is empty.
    """

    settings: AccessSettings = field(default_factory=AccessSettings)
    rules: LinkRules = field(default_factory=LinkRules)
    # OAuth mode: whether Slack says a person is an admin or owner of the workspace, read
    # from facts already gathered (the tenant's directory cache, filled by the access
    # check), never a call; not known counts as no. None: only ``settings.admins`` count.
    slack_admins: Callable[[str], bool] | None = field(default=None, compare=False)

    # -- what the directory must find out -------------------------------------------------

    @property
    def needs_user_facts(self) -> bool:
        """Whether ``decide`` needs ``users.info`` (guest, deleted, own organisation)."""
        if self.slack_admins is not None:
            return True  # whether the person is one of Slack's admins
        return not (self.settings.allow_guests and self.settings.allow_external)

    @property
    def needs_groups(self) -> bool:
        return bool(self.settings.allowed_usergroups)

    def teams(self, home_team: str | None, home_enterprise: str | None) -> frozenset[str]:
        """The allowed workspaces and orgs: the setting, or the bot's own."""
        if self.settings.allowed_teams:
            return self.settings.allowed_teams
        return frozenset(team for team in (home_team, home_enterprise) if team)

    # -- the decisions ---------------------------------------------------------------------

    def is_admin(self, user_id: str | None) -> bool:
        """MEDIALINK_ADMINS and the workspace's own list; in OAuth mode also Slack's
        admins and owners, as far as the access check has learnt them."""
        if user_id is None:
            return False
        if user_id in self.settings.admins:
            return True
        return self.slack_admins is not None and self.slack_admins(user_id)

    def decide(
        self, identity: Identity, *, home_team: str | None, home_enterprise: str | None = None
    ) -> Decision:
        """May this person use MediaLink here? Admins pass the user and channel lists,
        never the workspace, guest or organisation checks."""
        s = self.settings
        teams = self.teams(home_team, home_enterprise)
        if not teams & {identity.team_id, identity.enterprise_id}:
            return self._refuse(Reason.TEAM, "MediaLink is not enabled for this workspace.")
        if identity.deleted:
            return self._refuse(Reason.UNKNOWN_USER, "Slack does not know your account here.")
        if not s.allow_external:
            own = {identity.user_team_id, identity.user_enterprise_id} - {None}
            if not own:
                return self._refuse(
                    Reason.UNAVAILABLE, "I could not check which organisation you belong to."
                )
            if not own & teams:
                return self._refuse(
                    Reason.EXTERNAL,
                    "MediaLink is only for members of this organisation, not for people "
                    "from other organisations in shared channels.",
                )
        if not s.allow_guests:
            if identity.guest is None:
                return self._refuse(
                    Reason.UNAVAILABLE, "I could not check whether your account is a guest."
                )
            if identity.guest:
                return self._refuse(Reason.GUEST, "MediaLink is not available to guests here.")
        admin = self.is_admin(identity.user_id)
        if admin:
            return Allowed(admin=True)
        if (
            s.allowed_channels
            and not identity.channel_pending
            and identity.channel_id not in s.allowed_channels
        ):
            return self._refuse(
                Reason.CHANNEL,
                "MediaLink cannot be used in this conversation"
                + (f"; try {self._channels()}." if len(s.allowed_channels) <= 5 else "."),
            )
        if s.allowed_users or s.allowed_usergroups:
            listed = identity.user_id in s.allowed_users
            in_group = bool(identity.groups & s.allowed_usergroups)
            if not (listed or in_group):
                return self._refuse(Reason.USER, "You are not on the list of MediaLink's users.")
        return Allowed(admin=False)

    def may_link_private(self, user_id: str | None) -> bool:
        """``MEDIALINK_PRIVATE_FILES``, for a person ``decide`` allowed."""
        rule = self.settings.private_files
        return rule is PrivateFiles.EVERYONE or (
            rule is PrivateFiles.ADMINS and self.is_admin(user_id)
        )

    def may_zip(self, user_id: str | None) -> bool:
        zip_access = self.settings.zip
        return zip_access is ZipAccess.EVERYONE or (
            zip_access is ZipAccess.ADMINS and self.is_admin(user_id)
        )

    def zip_refusal(self) -> Refusal:
        if self.settings.zip is ZipAccess.OFF:
            return self._refuse(Reason.ADMINS_ONLY, "Zip downloads are switched off here.")
        return self._refuse(Reason.ADMINS_ONLY, "Only MediaLink's admins may make zip links here.")

    def unavailable(self) -> Refusal:
        """Slack could not tell who is asking (fail closed)."""
        return self._refuse(
            Reason.UNAVAILABLE,
            "I could not check who may use MediaLink just now (Slack did not answer). "
            "Try again in a moment.",
            ask=False,
        )

    # -- sentences -------------------------------------------------------------------------

    def whom_to_ask(self) -> str:
        """The admins, by mention (at most five), or who runs MediaLink."""
        admins = sorted(self.settings.admins)
        if not admins:
            return NO_ADMINS if self.slack_admins is None else SLACK_ADMINS
        shown = ", ".join(f"<@{admin}>" for admin in admins[:5])
        if self.slack_admins is not None:
            return shown + " or " + SLACK_ADMINS
        return shown + (" or another admin" if len(admins) > 5 else "")

    def _refuse(self, reason: Reason, why: str, *, ask: bool = True) -> Refusal:
        tail = f" If you need it, ask {self.whom_to_ask()}." if ask else ""
        return Refusal(reason=reason, message=why + tail)

    def _channels(self) -> str:
        return _join(f"<#{channel}>" for channel in sorted(self.settings.allowed_channels))

    def describe(self, *, home_team: str | None = None, oauth: bool = False) -> list[str]:
        """The effective policy, one line per rule, for ``medialink check``.

        ``oauth``: several workspaces install MediaLink, each served as its own (so
        MEDIALINK_ALLOWED_TEAMS names who gets the environment's Wix site instead)."""
        s = self.settings

        def listed(items: frozenset[str], empty: str) -> str:
            return ", ".join(sorted(items)) if items else empty

        if oauth:
            teams = (
                "each that installs MediaLink, under its own settings (these are the "
                "defaults); the environment's Wix site: "
                + listed(s.allowed_teams, "none (MEDIALINK_ALLOWED_TEAMS is empty)")
            )
        elif s.allowed_teams:
            teams = listed(s.allowed_teams, "")
        else:
            teams = f"only the bot token's own workspace{f' ({home_team})' if home_team else ''}"
        zip_text = {
            ZipAccess.OFF: "off",
            ZipAccess.ADMINS: "admins only (the zip link is permanent; public files only)",
            ZipAccess.EVERYONE: "everyone allowed (the zip link is permanent; public files only)",
        }[s.zip]
        return [
            f"workspaces: {teams}",
            f"channels: {listed(s.allowed_channels, 'any')}",
            f"users: {listed(s.allowed_users, 'anyone')}"
            + (f"; user groups: {listed(s.allowed_usergroups, '')}" if s.allowed_usergroups else "")
            + ("" if s.allowed_users or s.allowed_usergroups else " (no user or group list)"),
            f"admins: {listed(s.admins, 'none')}"
            + ("; and the workspace's Slack admins and owners" if self.slack_admins else ""),
            f"guests: {'allowed' if s.allow_guests else 'refused'}",
            f"people from other organisations: {'allowed' if s.allow_external else 'refused'}",
            f"private files: {s.private_files.value}",
            "redirect hosts: " + listed(self.rules.redirect_hosts, "any https host"),
            f"expiry: default {format_duration(self.rules.default_expiry)}, "
            f"at most {format_duration(self.rules.max_expiry)}; "
            f"at most {self.rules.max_renditions} renditions a request",
            f"share in channel: {'on' if s.share_enabled else 'off'}",
            f"zip downloads: {zip_text}",
        ]


def _join(items: Iterable[str]) -> str:
    listed = list(items)
    if len(listed) <= 1:
        return "".join(listed)
    return ", ".join(listed[:-1]) + " or " + listed[-1]
