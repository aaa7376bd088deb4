"""manifest.yaml (HTTP mode) and manifest.socket.yaml (Socket Mode): valid for Slack, in
step with what the app actually handles, and the same app apart from how Slack reaches it.

The schema is Slack's own (``slackapi/manifest-schema``, MIT), read from
``../shared/slack/manifest-schema/`` beside the project (or the folder named by
MEDIALINK_TEST_MANIFEST_SCHEMA) and never copied into it: README.md, "The manifest
schema". Its root file ``$ref``s the versioned schemas by remote URL, so the local
copies are registered under those URLs and validation works offline.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.server import EVENTS_PATH
from bot.slack.listeners import workflow
from bot.slack.surfaces import (
    APP_HOME_OPENED,
    APP_UNINSTALLED,
    COMMAND,
    FUNCTION_EXECUTED,
    GLOBAL_SHORTCUT,
    LINK_SHARED,
    MESSAGE_SHORTCUT,
    TOKENS_REVOKED,
    WORKFLOW_STEP,
)
from bot.workspaces.oauth import BOT_SCOPES, REDIRECT_PATH

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "manifest.yaml"
SOCKET_MANIFEST = REPO_ROOT / "manifest.socket.yaml"
MANIFESTS = {"http": MANIFEST, "socket": SOCKET_MANIFEST}
SCHEMA_ENV = "MEDIALINK_TEST_MANIFEST_SCHEMA"
SCHEMA_DIR = Path(
    os.environ.get(SCHEMA_ENV) or REPO_ROOT.parent / "shared" / "slack" / "manifest-schema"
)
README_SECTION = "The manifest schema"  # where the schema comes from, for the skip message
# What only says how Slack reaches the app: request URLs (and OAuth's redirect URLs),
# and whether it connects over Socket Mode. Everything else the two manifests share.
TRANSPORT_KEYS = frozenset({"url", "request_url", "message_menu_options_url", "redirect_urls"})
SCHEMA_BASE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"
VERSIONED = ("manifest.schema.1.0.0.json", "manifest.schema.2.0.0.json")


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load(MANIFEST)


@pytest.fixture(scope="module")
def socket_manifest() -> dict[str, Any]:
    return load(SOCKET_MANIFEST)


@pytest.fixture(scope="module")
def schema_dir() -> Path:
    if not (SCHEMA_DIR / "manifest.schema.json").is_file():
        pytest.skip(
            f"Slack's app-manifest JSON Schema is not at {SCHEMA_DIR}, so the manifests are "
            f"not validated here; README.md, '{README_SECTION}', says where it comes from "
            f"(CI has it; or set {SCHEMA_ENV} to its folder)"
        )
    return SCHEMA_DIR


def _errors(schema: Any, registry: Registry[Any], manifest: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(schema, registry=registry)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_is_valid_against_slacks_schema(name: str, schema_dir: Path) -> None:
    manifest = load(MANIFESTS[name])
    resources: list[tuple[str, Resource[Any]]] = [
        (SCHEMA_BASE + name, DRAFT7.create_resource(_load_json(schema_dir / "schemas" / name)))
        for name in VERSIONED
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    # The versioned schema first, for readable messages; then the root router.
    major = manifest.get("_metadata", {}).get("major_version", 1)
    versioned = _load_json(schema_dir / "schemas" / f"manifest.schema.{major}.0.0.json")
    assert _errors(versioned, registry, manifest) == []
    assert _errors(_load_json(schema_dir / "manifest.schema.json"), registry, manifest) == []


def test_schema_check_catches_a_broken_manifest(manifest: dict[str, Any], schema_dir: Path) -> None:
    """The validation above must be able to fail: a too-long shortcut name is refused."""
    broken = json.loads(json.dumps(manifest))
    broken["features"]["shortcuts"][0]["name"] = "A shortcut name far too long for Slack"
    broken["features"]["shortcuts"][1]["type"] = "msg"
    versioned = _load_json(schema_dir / "schemas" / "manifest.schema.1.0.0.json")
    errors = _errors(versioned, Registry(), broken)
    assert any("too long" in error for error in errors), errors
    assert any("'msg' is not one of" in error for error in errors), errors


def test_slash_command(manifest: dict[str, Any]) -> None:
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["description"].strip()
    assert "expires=" in command["usage_hint"]
    assert command["url"].endswith(EVENTS_PATH)
    # Raw text (URLs not wrapped in <…>): the parser accepts both, this is Slack's default.
    assert command.get("should_escape", False) is False


def test_both_shortcuts(manifest: dict[str, Any]) -> None:
    shortcuts = {item["callback_id"]: item for item in manifest["features"]["shortcuts"]}
    assert set(shortcuts) == {MESSAGE_SHORTCUT, GLOBAL_SHORTCUT}
    assert shortcuts[MESSAGE_SHORTCUT]["type"] == "message"
    assert shortcuts[MESSAGE_SHORTCUT]["name"] == "Get download links"
    assert shortcuts[GLOBAL_SHORTCUT]["type"] == "global"
    assert shortcuts["medialink_global"]["name"] == "Wix download links"
    assert all(item["description"].strip() for item in shortcuts.values())


def test_only_the_scopes_needed(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    # commands: the command and shortcuts; chat:write: DMs and the postEphemeral fallback;
    # users:read and usergroups:read: the access policy (guests, other orgs, user groups);
    # links:read and links:write: link unfurls (link_shared, chat.unfurl).
    assert sorted(scopes["bot"]) == [
        "chat:write",
        "commands",
        "links:read",
        "links:write",
        "usergroups:read",
        "users:read",
    ]
    assert not scopes.get("user")


def test_bot_user_interactivity_and_settings(manifest: dict[str, Any]) -> None:
    assert manifest["features"]["bot_user"]["display_name"]
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert isinstance(settings["socket_mode_enabled"], bool)
    assert isinstance(settings["org_deploy_enabled"], bool)
    # Request URLs are placeholders to replace, never a real deployment.
    urls = [settings["interactivity"]["request_url"]]
    urls += [command["url"] for command in manifest["features"]["slash_commands"]]
    assert all(url.startswith("https://medialink.example.com/") for url in urls)


def test_the_file_picker_asks_the_same_url_for_its_options(manifest: dict[str, Any]) -> None:
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["message_menu_options_url"] == interactivity["request_url"]


def test_home_tab_and_its_event(manifest: dict[str, Any]) -> None:
    # views.publish answers not_enabled without the Home tab; the event needs the bot user.
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"]
    events = manifest["settings"]["event_subscriptions"]
    assert APP_HOME_OPENED in events["bot_events"]
    assert events["request_url"] == "https://medialink.example.com" + EVENTS_PATH


def test_the_schema_skip_points_to_a_readme_section_that_says_where_it_comes_from() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    heading = f"### {README_SECTION}\n"
    assert heading in readme
    section = readme.split(heading, 1)[1].split("\n#", 1)[0]
    for fact in ("slackapi/manifest-schema", "MIT", "../shared/slack/manifest-schema", "CI"):
        assert fact in section
    assert SCHEMA_ENV in section


def test_uninstall_events_and_the_oauth_redirect(manifest: dict[str, Any]) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {APP_UNINSTALLED, TOKENS_REVOKED} <= set(events)
    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect == "https://medialink.example.com" + REDIRECT_PATH
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_schema_is_not_copied_into_the_project() -> None:
    skip = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}
    copies = []
    for folder, subfolders, files in os.walk(REPO_ROOT):
        subfolders[:] = [name for name in subfolders if name not in skip]
        copies += [Path(folder, name) for name in files if name.startswith("manifest.schema")]
    assert copies == []


def test_the_workflow_step_matches_its_listener(manifest: dict[str, Any]) -> None:
    """The step's definition names exactly the inputs and outputs the listener reads and
    gives, and has what a step needs: an org-ready app and the function_executed event."""
    step = manifest["functions"][WORKFLOW_STEP]
    assert step["title"] == "Make Wix download links"
    inputs = step["input_parameters"]
    assert set(inputs) == {
        workflow.INPUT_TEXT,
        workflow.INPUT_USER,
        workflow.INPUT_EXPIRES,
        workflow.INPUT_RENDITIONS,
    }
    # Slack fills the person in; a builder cannot name anyone (docs/slack.md, Workflow steps).
    assert inputs[workflow.INPUT_USER]["type"] == "slack#/types/user_context"
    assert not any(param["type"] == "slack#/types/user_id" for param in inputs.values())
    required = {name for name, param in inputs.items() if param.get("is_required")}
    assert required == {workflow.INPUT_TEXT, workflow.INPUT_USER}
    outputs = step["output_parameters"]
    assert set(outputs) == {workflow.OUTPUT_LINKS, workflow.OUTPUT_URLS, workflow.OUTPUT_EXPIRES_AT}
    assert outputs[workflow.OUTPUT_EXPIRES_AT]["type"] == "slack#/types/timestamp"
    assert all(param["name"] == name for name, param in {**inputs, **outputs}.items())
    settings = manifest["settings"]
    assert settings["org_deploy_enabled"] is True
    assert FUNCTION_EXECUTED in settings["event_subscriptions"]["bot_events"]


def test_unfurl_domains_cover_the_wix_media_hosts(manifest: dict[str, Any]) -> None:
    """Every Wix media host the parser reads (bot/wix/refs.py) is on an unfurl domain or
    under one (Slack matches subdomains), and link_shared is subscribed."""
    domains = manifest["features"]["unfurl_domains"]
    assert len(domains) <= 5
    hosts = [
        "static.wixstatic.com",
        "video.wixstatic.com",
        "music.wixstatic.com",
        "docs.wixstatic.com",
        "download-files.wixmp.com",
        "5f6a7b12-3456-4789-8abc-def012345678.usrfiles.com",
        "5f6a7b12-3456-4789-8abc-def012345678.filesusr.com",
        "files.wix.com",
    ]
    for host in hosts:
        assert any(host == d or host.endswith("." + d) for d in domains), host
    assert "wix.com" not in domains  # every Wix site page would come to MediaLink
    assert LINK_SHARED in manifest["settings"]["event_subscriptions"]["bot_events"]


def without_transport(value: Any) -> Any:
    """The manifest without what only says how Slack reaches the app."""
    if isinstance(value, dict):
        kept = {
            key: without_transport(item)
            for key, item in value.items()
            if key not in TRANSPORT_KEYS and key != "socket_mode_enabled"
        }
        return {key: item for key, item in kept.items() if item != {}}
    if isinstance(value, list):
        return [without_transport(item) for item in value]
    return value


def test_socket_manifest_is_the_same_app_without_request_urls(
    manifest: dict[str, Any], socket_manifest: dict[str, Any]
) -> None:
    """Commands, shortcuts, scopes, events, functions, unfurl domains, settings: all as in
    manifest.yaml. A difference here means a change to one manifest was not copied to
    the other."""
    assert without_transport(socket_manifest) == without_transport(manifest)


def test_socket_manifest_connects_over_socket_mode_and_names_no_url(
    manifest: dict[str, Any], socket_manifest: dict[str, Any]
) -> None:
    assert socket_manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is False
    # Slack needs no request URL in Socket Mode; a placeholder would only mislead.
    assert transport_keys(socket_manifest) == set()
    assert {"url", "request_url"} <= transport_keys(manifest)


def transport_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {key for key in value if key in TRANSPORT_KEYS}
        for item in value.values():
            found |= transport_keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(transport_keys(item) for item in value))
    return set()


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["oauth_config"]["scopes"]["bot"].append("files:read"),
        lambda m: m["settings"]["event_subscriptions"]["bot_events"].append("team_join"),
        lambda m: m["features"]["shortcuts"].pop(),
        lambda m: m["features"]["slash_commands"][0].update(usage_hint="other"),
        lambda m: m.setdefault("functions", {}).update(step={"title": "A step"}),
        lambda m: m["settings"].update(org_deploy_enabled=not m["settings"]["org_deploy_enabled"]),
    ],
    ids=["scope", "event", "shortcut", "command", "function", "setting"],
)
def test_the_comparison_catches_a_change_made_to_one_manifest_only(
    manifest: dict[str, Any], change: Any
) -> None:
    changed = json.loads(json.dumps(manifest))
    change(changed)
    assert without_transport(changed) != without_transport(manifest)
    # … and not a change of URL.
    moved = json.loads(json.dumps(manifest))
    moved["settings"]["interactivity"]["request_url"] = "https://elsewhere.example/slack/events"
    assert without_transport(moved) == without_transport(manifest)
