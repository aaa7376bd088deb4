"""Block Kit's limits, the ones MediaLink's messages and form rely on.

Slack refuses a whole message when one limit is broken (``invalid_blocks``, and
through a response_url with no detail), so every number the renderer clips or packs
to is kept here (docs/slack.md, Block Kit limits).
"""

from __future__ import annotations

MAX_BLOCKS = 50  # per message
MAX_VIEW_BLOCKS = 100  # per modal or Home tab
MAX_SECTION_TEXT = 3000  # section text, and each context element
MAX_ACTIONS_ELEMENTS = 25  # per actions block
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000  # bot.slack.button_state keeps its tokens within this
MAX_BUTTON_URL = 3000
MAX_OPTIONS = 100  # per static_select
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
# A block_suggestion answer: at most 100 options (or option groups) (docs/slack.md,
# External selects).
MAX_SUGGESTED_OPTIONS = 100
MAX_INPUT_LENGTH = 3000  # a plain_text_input's max_length
# Slack asks for message text under 4000 bytes; 3000 characters stays clear of it.
MAX_MESSAGE_TEXT = 3000
MAX_CHECKBOX_OPTIONS = 10  # per checkboxes element
# The longest Wix search cursor a "More results" button carries; with the words and the
# link options it stays within MAX_BUTTON_VALUE (bot.slack.find_state checks the whole).
MAX_FIND_CURSOR = 1200
MAX_IMAGE_ALT_TEXT = 2000
