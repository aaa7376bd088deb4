"""Who may use MediaLink, and every link rule: one policy for every entry point.

- ``LinkRules`` (``rules``): the expiry range, renditions per request, the longest file
  ID and asset key, the original's key, the hosts an expired link may redirect to.
- ``AccessPolicy`` (``access``): a pure function of the request's identity and the
  settings: ``decide(identity) → Allowed | Refusal`` (why, and whom to ask); who may link
  private files (``may_link_private``) and make zip links (``may_zip``); ``describe()``
  for ``medialink check``.
- ``Directory`` (``directory``): what only Slack knows (``users.info``,
  ``usergroups.users.list``), cached briefly, bounded, every call with a deadline.
- ``AccessGate`` (``gate``): gathers the identity through the directory and decides;
  a Slack failure refuses with "try again".

``build_policy(settings)`` makes the policy from the settings, read once at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.policy.access import (
    AccessPolicy,
    AccessSettings,
    Allowed,
    Decision,
    Identity,
    PrivateFiles,
    Reason,
    Refusal,
    ZipAccess,
)
from bot.policy.directory import Directory, DirectoryUnavailable, UserFacts
from bot.policy.gate import AccessGate, Asker
from bot.policy.rules import MAX_RENDITIONS, ORIGINAL, LinkOptionsError, LinkRules

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "MAX_RENDITIONS",
    "ORIGINAL",
    "AccessGate",
    "AccessPolicy",
    "AccessSettings",
    "Allowed",
    "Asker",
    "Decision",
    "Directory",
    "DirectoryUnavailable",
    "Identity",
    "LinkOptionsError",
    "LinkRules",
    "PrivateFiles",
    "Reason",
    "Refusal",
    "UserFacts",
    "ZipAccess",
    "build_policy",
    "link_rules",
]


def link_rules(settings: Settings) -> LinkRules:
    """The link rules the settings give (expiry range, redirect hosts)."""
    return LinkRules(
        default_expiry=settings.medialink_default_expiry,
        max_expiry=settings.medialink_max_expiry,
        redirect_hosts=settings.medialink_redirect_hosts,
    )


def build_policy(settings: Settings) -> AccessPolicy:
    return AccessPolicy(settings=AccessSettings.from_settings(settings), rules=link_rules(settings))
