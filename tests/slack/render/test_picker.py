"""The file picker's options: what each one says, and how many there are."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.render.picker import file_options, option_text


@dataclass(frozen=True)
class Found:
    file_id: str
    name: str
    media_type: str = "image"
    size_bytes: int | None = 2048
    private: bool = False


def test_an_option_names_the_file_its_type_and_size() -> None:
    assert option_text(Found("f1", "logo.png")) == "logo.png · image · 2.0 KB"
    assert option_text(Found("f1", "logo.png", size_bytes=None)) == "logo.png · image"
    assert option_text(Found("f1", "a.pdf", "document", private=True)).endswith(" · private")


def test_line_breaks_and_empty_names_do_not_reach_the_menu() -> None:
    assert option_text(Found("f1", "two\nlines\t here")) == "two lines here · image · 2.0 KB"
    assert option_text(Found("abc_123", "   ")).startswith("abc_123 · ")


def test_at_most_100_options_each_file_once_in_order() -> None:
    files = [Found(f"id{n}", f"file {n}") for n in range(150)]
    answer = file_options([files[0], *files])
    assert [option["value"] for option in answer.options] == [f"id{n}" for n in range(100)]
    assert all(len(option["text"]["text"]) <= 75 for option in answer.options)
    assert answer.options[0]["text"]["emoji"] is False  # ``:x:`` in a name stays text
