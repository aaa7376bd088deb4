"""Block Kit for MediaLink's replies and form, kept within Slack's limits.

Slack refuses a whole message when one limit is broken, so every number the renderer
relies on lives in ``limits`` and replies are packed into as many messages as those
limits need (``pages``). One module per part people see:

* ``replies``: the interactive reply, and the copies shared in a conversation or DMed;
* ``files``: a file's section, with its ``links`` row and its ``renditions`` choice;
* ``footer``: the expiry choice and the controls (regenerate, share, DM, dismiss);
* ``skipped``: the input a request skipped, with reasons;
* ``notices``: plain messages (usage, problems, confirmations);
* ``modal``: the global shortcut's form;
* ``picker``: the options its type-ahead file picker offers.

Action and block IDs are matched by the listeners and the end-to-end tests.
"""

from __future__ import annotations

from bot.slack.render.block_kit import Block, Message
from bot.slack.render.footer import (
    ACTION_DISMISS,
    ACTION_DM,
    ACTION_EXPIRY_PREFIX,
    ACTION_REGENERATE,
    ACTION_SHARE,
    ACTION_ZIP,
    DISMISS_VALUE,
    EXPIRY_ACTION,
    EXPIRY_CHOICES,
    allowed_expiry_choices,
)
from bot.slack.render.links import ACTION_LINK_PREFIX, LINK_ACTION
from bot.slack.render.modal import (
    ASSETS_ACTION,
    ASSETS_BLOCK,
    CONVERSATION_ACTION,
    CONVERSATION_BLOCK,
    EXPIRY_BLOCK,
    EXPIRY_SELECT_ACTION,
    MODAL_CALLBACK_ID,
    PICKER_ACTION,
    PICKER_BLOCK,
    PICKER_MIN_QUERY,
    URLS_ACTION,
    URLS_BLOCK,
    build_link_modal,
)
from bot.slack.render.notices import render_nothing_found, render_notice
from bot.slack.render.renditions import ACTION_RENDITION_PREFIX, RENDITION_ACTION
from bot.slack.render.replies import (
    ACTION_ZIP_OPEN,
    render_dm_copy,
    render_link_reply,
    render_shared_reply,
    render_zip_link,
)
from bot.slack.render.text import human_size, slack_date

__all__ = [
    "ACTION_DISMISS",
    "ACTION_DM",
    "ACTION_EXPIRY_PREFIX",
    "ACTION_LINK_PREFIX",
    "ACTION_REGENERATE",
    "ACTION_RENDITION_PREFIX",
    "ACTION_SHARE",
    "ACTION_ZIP",
    "ACTION_ZIP_OPEN",
    "ASSETS_ACTION",
    "ASSETS_BLOCK",
    "CONVERSATION_ACTION",
    "CONVERSATION_BLOCK",
    "DISMISS_VALUE",
    "EXPIRY_ACTION",
    "EXPIRY_BLOCK",
    "EXPIRY_CHOICES",
    "EXPIRY_SELECT_ACTION",
    "LINK_ACTION",
    "MODAL_CALLBACK_ID",
    "PICKER_ACTION",
    "PICKER_BLOCK",
    "PICKER_MIN_QUERY",
    "RENDITION_ACTION",
    "URLS_ACTION",
    "URLS_BLOCK",
    "Block",
    "Message",
    "allowed_expiry_choices",
    "build_link_modal",
    "human_size",
    "render_dm_copy",
    "render_link_reply",
    "render_nothing_found",
    "render_notice",
    "render_shared_reply",
    "render_zip_link",
    "slack_date",
]
