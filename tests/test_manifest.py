"""manifest.yaml: valid for Slack, and in step with what the app actually handles.

The schema is Slack's own (``slackapi/manifest-schema``), read from
``../shared/slack/manifest-schema/`` beside the project and never copied into it.
Its root file ``$ref``s the versioned schemas by remote URL, so the local copies
are registered under those URLs and validation works offline.
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
from bot.slack.surfaces import (
    APP_HOME_OPENED,
    APP_UNINSTALLED,
    COMMAND,
    GLOBAL_SHORTCUT,
    MESSAGE_SHORTCUT,
    TOKENS_REVOKED,
)
from bot.workspaces.oauth import BOT_SCOPES, REDIRECT_PATH

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "manifest.yaml"
SCHEMA_DIR = REPO_ROOT.parent / "shared" / "slack" / "manifest-schema"
SCHEMA_BASE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"
VERSIONED = ("manifest.schema.1.0.0.json", "manifest.schema.2.0.0.json")


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def schema_dir() -> Path:
    if not (SCHEMA_DIR / "manifest.schema.json").is_file():
        pytest.skip(
            f"Slack's manifest schema is not at {SCHEMA_DIR} (../shared/slack/manifest-schema "
            "beside the project); the manifest is not validated on this machine"
        )
    return SCHEMA_DIR


def _errors(schema: Any, registry: Registry[Any], manifest: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(schema, registry=registry)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


def test_manifest_is_valid_against_slacks_schema(
    manifest: dict[str, Any], schema_dir: Path
) -> None:
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
    # users:read and usergroups:read: the access policy (guests, other orgs, user groups).
    assert sorted(scopes["bot"]) == ["chat:write", "commands", "usergroups:read", "users:read"]
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


def test_home_tab_and_its_event(manifest: dict[str, Any]) -> None:
    # views.publish answers not_enabled without the Home tab; the event needs the bot user.
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"]
    events = manifest["settings"]["event_subscriptions"]
    assert events["bot_events"][0] == APP_HOME_OPENED
    assert events["request_url"] == "https://medialink.example.com" + EVENTS_PATH


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
