"""The repository explains itself: what the code cites exists, and what the docs list is
what the code has.

- Every "(docs/slack.md, Some heading)" or "(docs/wix.md, Some heading)" in bot/,
  benchmarks/ and tests/ names a heading of that document.
- No file names a path outside the repository (the workplace's shared folder, the
  machine's own paths), except where the manifest schema is found.
- Every setting (``bot.config.Settings``) is in ``.env.example`` and in the README's
  settings table, and the table names nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CITING = ("bot", "benchmarks", "tests")
DOCS = ("slack.md", "wix.md")
TEXT_SUFFIXES = (".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".sh")

# A citation: the document, then the heading it points to (up to a bracket, a semicolon
# or a quote). Comments wrap, so the text is read with line breaks (and "#") folded.
_CITATION = re.compile(r"docs/(slack|wix)\.md[ \t]*[,:][ \t]*([^)\];\"`\n]{1,100})")
# After a heading, a citation may end or go on: a detail (", form 15", ": numbered"), a
# rule ("URL forms ----"), or prose ("… Download URL and the three sections after it").
_AFTER_HEADING = re.compile(r"$|[,:.;)(]|\s+[-—(a-z]")


def headings(doc: str) -> set[str]:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}


def source_files(*places: str) -> list[Path]:
    """The code and text files at or under ``places`` (caches left out)."""
    found = []
    for place in places:
        path = ROOT / place
        for file in [path] if path.is_file() else sorted(path.rglob("*")):
            if file.suffix in TEXT_SUFFIXES and "__pycache__" not in file.parts:
                found.append(file)
    return found


def fold(text: str) -> str:
    """``text`` with wrapped lines joined: a comment with the comment line after it, a
    docstring's line with the next one; code after a comment starts a line of its own."""
    lines = text.splitlines()
    out = lines[:1]
    for line in lines[1:]:
        now, before = line.strip(), out[-1]
        if now.startswith("#") == ("#" in before) and now:
            out[-1] = before.rstrip() + " " + now.lstrip("#").strip()
        else:
            out.append(line)
    return "\n".join(out)


def citations(text: str) -> list[tuple[str, str]]:
    """Each (document, cited text) in ``text``, wrapped lines joined."""
    folded = fold(text)
    return [(f"{doc}.md", cited.strip()) for doc, cited in _CITATION.findall(folded)]


def cites_a_heading(cited: str, known: set[str]) -> bool:
    return any(
        cited.startswith(heading) and _AFTER_HEADING.match(cited[len(heading) :])
        for heading in known
    )


def test_the_citation_reader_folds_comments_and_stops_at_the_heading() -> None:
    known = {"Installing in several workspaces", "URL forms", "Modals and trigger_id"}
    text = "x = 1  # as Slack says (docs/slack.md, Installing in several\n    # workspaces).\n"
    [(doc, cited)] = citations(text)
    assert doc == "slack.md"
    assert cites_a_heading(cited, known)
    assert cites_a_heading("URL forms, form 15", known)
    assert cites_a_heading("URL forms -----------", known)
    assert not cites_a_heading("Modals", known)  # a heading cut short
    assert not cites_a_heading("URL formsX", known)
    assert cites_a_heading("URL forms and the sections after it", known)
    [(_, cited)] = citations('BASE = "https://x"  # docs/wix.md, Base URL\nPATH: Final = "/a"\n')
    assert cited == "Base URL"  # the code after a comment is not part of it


def test_every_cited_heading_exists() -> None:
    known = {doc: headings(doc) for doc in DOCS}
    wrong = []
    found = 0
    for path in source_files(*CITING):
        if path == Path(__file__).resolve():
            continue  # its examples
        for doc, cited in citations(path.read_text(encoding="utf-8")):
            found += 1
            if not cites_a_heading(cited, known[doc]):
                wrong.append(f"{path.relative_to(ROOT)}: (docs/{doc}, {cited[:60]})")
    assert found > 50, "the citation reader found almost nothing: is the pattern right?"
    assert wrong == [], "citations of headings that do not exist:\n" + "\n".join(wrong)


# Paths outside the repository: the workplace's shared folder and this machine's own.
_OUTSIDE = re.compile(r"\.\./shared\b|shared/contracts|(?<![\w.])/(?:work|tmp)/")
# The one place outside the repository that the manifest tests and the README name: where
# the manifest schema is found (README.md, "The manifest schema").
_SCHEMA_PLACE = "../shared/slack/manifest-schema"


@pytest.mark.parametrize("folder", ["bot", "benchmarks", "tests", "docs", "deploy", "README.md"])
def test_no_file_names_a_path_outside_the_repository(folder: str) -> None:
    wrong = []
    for path in source_files(folder):
        if path == Path(__file__).resolve():
            continue  # the patterns above
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _OUTSIDE.search(line.replace(_SCHEMA_PLACE, "")):
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert wrong == [], "paths outside the repository:\n" + "\n".join(wrong)


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def readme_settings_table() -> list[str]:
    """The settings named in the first column of the README's "Settings" table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
    return names


def test_every_setting_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert setting_names() - documented == set()
    assert documented - setting_names() == set(), "not a setting MediaLink reads"


def test_every_setting_is_in_the_readme_settings_table_once() -> None:
    listed = readme_settings_table()
    assert len(listed) == len(set(listed)), "a setting is listed twice"
    assert setting_names() - set(listed) == set(), "missing from README.md's Settings table"
    assert set(listed) - setting_names() == set(), "not a setting MediaLink reads"


def test_env_example_sets_each_setting_once() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assigned = re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE)
    assert sorted(name for name in set(assigned) if assigned.count(name) > 1) == []
