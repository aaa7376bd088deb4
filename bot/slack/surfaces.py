"""MediaLink's names on Slack: the command, the shortcuts' callback IDs and the events.

They must match ``manifest.yaml`` (tests/test_manifest.py checks).
"""

from __future__ import annotations

from typing import Final

from bot.audit import Entry

COMMAND: Final = "/medialink"
MESSAGE_SHORTCUT: Final = "medialink_message"
GLOBAL_SHORTCUT: Final = "medialink_global"
APP_HOME_OPENED: Final = "app_home_opened"
# The Workflow Builder step: its callback ID (manifest.yaml's functions) and its event.
WORKFLOW_STEP: Final = "make_wix_download_links"
FUNCTION_EXECUTED: Final = "function_executed"

LINK_SHARED: Final = "link_shared"
# The "Get a download link" button under an unfurl; its audit entry is Entry.UNFURL_BUTTON.
UNFURL_ACTION: Final = "medialink_unfurl"

# MediaLink uninstalled, or its tokens revoked: what is kept for the workspace goes.
APP_UNINSTALLED: Final = "app_uninstalled"
TOKENS_REVOKED: Final = "tokens_revoked"


def button_entry(action_id: str) -> str:
    """The audit trail's name for a click on one of MediaLink's buttons: ``button:regenerate``."""
    return Entry.button(action_id.removeprefix("medialink_")[:60])
