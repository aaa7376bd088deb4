"""MediaLink's names on Slack: the command and the shortcuts' callback IDs.

They must match ``manifest.yaml`` (tests/test_manifest.py checks).
"""

from __future__ import annotations

from typing import Final

COMMAND: Final = "/medialink"
MESSAGE_SHORTCUT: Final = "medialink_message"
GLOBAL_SHORTCUT: Final = "medialink_global"
