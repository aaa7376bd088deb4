"""Packing a reply's files into as many messages as Block Kit's limits need.

Each message is a context line saying what it is ("part k of n" when split), the
files' blocks, the skipped input (first message only) and, on interactive replies,
the footer. Each message carries the button state of its own files only, so a click
remakes exactly that message.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.slack.button_state import FileState, LinkState, encode_state, fits_in_button
from bot.slack.render.block_kit import Block, Message, context, message
from bot.slack.render.files import file_blocks
from bot.slack.render.footer import footer_blocks
from bot.slack.render.limits import MAX_BLOCKS
from bot.slack.render.skipped import skipped_block
from bot.slack.render.text import count, strip_mrkdwn
from bot.wix.links import FileLinks
from bot.wix.refs import RejectedToken

_STATE_DROPPED = (
    " These files are too many for the buttons to remember, so the buttons are "
    "off; run /medialink again for fresh links."
)


@dataclass(frozen=True, slots=True)
class Layout:
    intro: str  # "{what}" becomes "3 files"
    state: LinkState | None = None  # None: links only (shared and DM copies)
    files: Mapping[str, FileState] | None = None  # file ID → its state, for interactive replies
    expiry_choices: tuple[int, ...] = ()
    share_enabled: bool = False
    zip_enabled: bool = False

    def state_for(self, results: Sequence[FileLinks]) -> LinkState | None:
        """The request's state narrowed to these files; None for links only."""
        if self.state is None or self.files is None:
            return None
        return self.state.with_files([self.files[result.file_id] for result in results])


@dataclass(frozen=True, slots=True)
class _Page:
    results: tuple[FileLinks, ...]
    blocks: list[Block]  # after the intro
    state_dropped: bool


def paginate(
    results: Sequence[FileLinks], layout: Layout, rejected: Sequence[RejectedToken]
) -> list[Message]:
    pages = _pack(results, layout, rejected)
    return [
        _page_message(page, number, len(pages), len(results), layout)
        for number, page in enumerate(pages, start=1)
    ]


def _pack(
    results: Sequence[FileLinks], layout: Layout, rejected: Sequence[RejectedToken]
) -> list[_Page]:
    pages: list[_Page] = []
    start = 0
    while start < len(results):
        page = _longest_page(results, start, layout, () if pages else rejected)
        pages.append(page)
        start += len(page.results)
    if not pages:
        pages.append(_Page((), [skipped_block(rejected)] if rejected else [], False))
    return pages


def _longest_page(
    results: Sequence[FileLinks],
    start: int,
    layout: Layout,
    rejected: Sequence[RejectedToken],
) -> _Page:
    """The longest run of files from ``start`` that fits one message.

    Fitting is monotonic (another file only adds blocks and state), so a binary search
    needs O(log n) renders per page.
    """
    best = None
    low, high = 1, len(results) - start
    while low <= high:
        size = (low + high) // 2
        page = _render_page(tuple(results[start : start + size]), layout, rejected)
        if page is None:
            high = size - 1
        else:
            best, low = page, size + 1
    if best is None:  # one file that cannot fit on its own: drop what does not fit
        best = _render_page((results[start],), layout, rejected, lenient=True)
    assert best is not None  # noqa: S101 - a lenient render always returns a page
    return best


def _render_page(
    results: tuple[FileLinks, ...],
    layout: Layout,
    rejected: Sequence[RejectedToken],
    *,
    lenient: bool = False,
) -> _Page | None:
    """The blocks for these files, or None if they break a limit.

    ``lenient`` (one file that cannot fit otherwise) drops what does not fit instead:
    rendition choices too big for their button, or all the buttons' state.
    """
    page_state = layout.state_for(results)
    token = encode_state(page_state) if page_state is not None else ""
    state_dropped = page_state is not None and not fits_in_button(token)
    if state_dropped:
        if not lenient:
            return None
        page_state = None

    blocks: list[Block] = []
    link_numbers = itertools.count()
    for index, result in enumerate(results):
        blocks_of_file = file_blocks(index, result, page_state, link_numbers, lenient=lenient)
        if blocks_of_file is None:
            return None
        blocks.extend(blocks_of_file)
    if rejected:
        blocks.append(skipped_block(rejected))
    if page_state is not None:
        blocks.extend(
            footer_blocks(
                page_state,
                token,
                expiry_choices=layout.expiry_choices,
                share_enabled=layout.share_enabled,
                zip_enabled=layout.zip_enabled,
            )
        )
    if len(blocks) + 1 > MAX_BLOCKS:  # + the intro
        return None
    return _Page(results, blocks, state_dropped)


MAX_SITES_NAMED = 10  # in one intro line: its text stays far below Block Kit's cap


def sites_note(results: Sequence[FileLinks]) -> str:
    """ " From Wix site `acme`." and where a file was found instead: every reply names
    the connected site (bot.sites) its links come from; nothing when none is known."""
    names = list(dict.fromkeys(result.site for result in results if result.site))
    if not names:
        return ""
    shown = ", ".join(f"`{name}`" for name in names[:MAX_SITES_NAMED])
    if len(names) > MAX_SITES_NAMED:
        shown += f" and {len(names) - MAX_SITES_NAMED} more"
    note = f" From Wix site{'s' if len(names) > 1 else ''} {shown}."
    moved: dict[tuple[str, str], int] = {}
    for result in results:
        if result.not_on and result.site:
            key = (result.not_on, result.site)
            moved[key] = moved.get(key, 0) + 1
    for (not_on, found_on), files in list(moved.items())[:MAX_SITES_NAMED]:
        what = "1 file was" if files == 1 else f"{files} files were"
        note += f" {what} not on `{not_on}` and found on `{found_on}`."
    return note


def _page_message(
    page: _Page, number: int, pages: int, total_files: int, layout: Layout
) -> Message:
    what = count(total_files)
    if pages > 1:
        what = f"{what} (part {number} of {pages}: {count(len(page.results))})"
    intro = layout.intro.format(what=what) + sites_note(page.results)
    if page.state_dropped:
        intro += _STATE_DROPPED
    blocks = [context(intro, block_id="medialink_intro"), *page.blocks]
    return message(f"MediaLink: {strip_mrkdwn(what)}", blocks)
