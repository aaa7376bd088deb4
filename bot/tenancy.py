"""Which workspace a request belongs to: the key every per-workspace row is stored under.

An ordinary install belongs to one workspace (its team ID). An Enterprise Grid org-wide
install serves every workspace of the org with one installation, so its rows belong to
the org (its enterprise ID), whichever of the org's workspaces a request came from
(docs/slack.md, Enterprise Grid).
"""

from __future__ import annotations

import contextvars

# The tenant of the request being served, set once it is known (OAuth mode and single
# workspace alike); listener tasks copy it, so whatever they record is stamped with it.
current_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "medialink_tenant", default=None
)


def tenant_of(
    team_id: str | None, enterprise_id: str | None, *, enterprise_install: bool = False
) -> str:
    """The workspace (or org, for an org-wide install) a request is served for.

    Raises ``ValueError`` when the request names neither: such a request cannot be
    told apart from another workspace's, so it must be refused, never served.
    """
    if enterprise_install and enterprise_id:
        return enterprise_id
    if team_id:
        return team_id
    if enterprise_id:
        return enterprise_id
    raise ValueError("the request names neither a workspace nor an organisation")
