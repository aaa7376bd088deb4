"""Finding Wix references anywhere in a Slack message: text, blocks and attachments."""

from __future__ import annotations

from typing import Any

from bot.slack.message_refs import collect_message_text, collect_refs

IMAGE_ID = "2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"
DOC_ID = "2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf"
VIDEO_ID = "4acbb8_5646ee01a5524905af4f2e7c567cbbce"
AUDIO_ID = "b29e13_10fe0bcdbd5f406290b1dcfe1dbf291b.mp3"
IMAGE = f"https://static.wixstatic.com/media/{IMAGE_ID}"
DOC = f"https://static.wixstatic.com/ugd/{DOC_ID}"
VIDEO = f"https://video.wixstatic.com/video/{VIDEO_ID}/720p/mp4/file.mp4"
AUDIO = f"https://music.wixstatic.com/mp3/{AUDIO_ID}"


def file_ids(message: dict[str, Any], max_refs: int = 50) -> list[str]:
    return [ref.file_id for ref in collect_refs(message, max_refs=max_refs).refs]


def test_links_in_the_text_with_and_without_labels() -> None:
    message = {"text": f"Here: <{IMAGE}> and <{DOC}|the contract>, also {VIDEO}."}
    assert file_ids(message) == [IMAGE_ID, DOC_ID, VIDEO_ID]


def test_rich_text_links_nested_in_lists_and_quotes() -> None:
    message = {
        "text": "",
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "b1",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "Files: "},
                            {"type": "link", "url": IMAGE, "text": "photo"},
                        ],
                    },
                    {
                        "type": "rich_text_list",
                        "style": "bullet",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "link", "url": DOC}],
                            },
                            {
                                "type": "rich_text_quote",
                                "elements": [
                                    {"type": "text", "text": "and "},
                                    {"type": "link", "url": VIDEO, "text": "the talk"},
                                ],
                            },
                        ],
                    },
                ],
            }
        ],
    }
    assert file_ids(message) == [IMAGE_ID, DOC_ID, VIDEO_ID]


def test_references_typed_as_plain_rich_text_are_found() -> None:
    # Slack does not turn wix: addresses into links; they stay text elements.
    wix = f"wix:document://v1/{DOC_ID}/report.pdf"
    message = {
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_preformatted",
                        "elements": [{"type": "text", "text": wix}],
                    }
                ],
            }
        ]
    }
    assert file_ids(message) == [DOC_ID]


def test_a_link_split_across_styled_runs_stays_whole() -> None:
    message = {
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": f"wix:document://v1/{DOC_ID[:10]}"},
                            {
                                "type": "text",
                                "text": f"{DOC_ID[10:]}/r.pdf",
                                "style": {"bold": True},
                            },
                        ],
                    }
                ],
            }
        ]
    }
    assert file_ids(message) == [DOC_ID]


def test_section_text_fields_and_buttons() -> None:
    message = {
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"<{IMAGE}|photo>"},
                "fields": [{"type": "mrkdwn", "text": f"<{DOC}>"}],
                "accessory": {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "x"},
                    "url": VIDEO,
                },
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": AUDIO}]},
        ]
    }
    assert file_ids(message) == [IMAGE_ID, DOC_ID, VIDEO_ID, AUDIO_ID]


def test_attachments_text_links_and_fields() -> None:
    message = {
        "text": "",
        "attachments": [
            {"fallback": "a file", "title_link": IMAGE, "text": f"see <{DOC}>"},
            {"from_url": VIDEO, "fields": [{"title": "Audio", "value": f"<{AUDIO}|song>"}]},
        ],
    }
    assert file_ids(message) == [IMAGE_ID, DOC_ID, VIDEO_ID, AUDIO_ID]


def test_each_file_once_even_when_in_text_and_blocks() -> None:
    message = {
        "text": f"<{IMAGE}> <{DOC}>",
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "link", "url": IMAGE},
                            {"type": "text", "text": " "},
                            {"type": "link", "url": DOC},
                        ],
                    }
                ],
            }
        ],
    }
    assert file_ids(message) == [IMAGE_ID, DOC_ID]


def test_other_links_are_rejected_with_a_reason_and_words_are_ignored() -> None:
    found = collect_refs({"text": "Cute cat <https://youtube.com/watch?v=W86cTIoMv2U> lol"})
    assert found.refs == ()
    assert len(found.rejected) == 1
    assert "youtube.com" in found.rejected[0].text
    assert "not a Wix media URL" in found.rejected[0].reason


def test_the_limit_on_references_holds() -> None:
    ids = [f"{index:06x}_{index:032x}.pdf" for index in range(60)]
    found = collect_refs({"text": " ".join(ids)}, max_refs=50)
    assert len(found.refs) == 50
    assert len(found.rejected) == 10


def test_malformed_and_hostile_payloads_do_not_break_collection() -> None:
    deep: dict[str, Any] = {"type": "link", "url": IMAGE}
    for _ in range(200):
        deep = {"type": "rich_text_quote", "elements": [deep]}
    message: dict[str, Any] = {
        "text": None,
        "blocks": [None, "x", {"type": "rich_text", "elements": [deep, 5, {"type": "link"}]}],
        "attachments": "nope",
    }
    assert file_ids(message) == []  # nested beyond any real message: not read
    assert collect_message_text({}) == ""
    assert collect_message_text({"text": 12, "blocks": {"a": 1}, "attachments": [7]}) == ""
