"""The policy as a pure function, the link rules, the directory's cache and the settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import SettingsError, load_settings
from bot.policy import (
    AccessPolicy,
    AccessSettings,
    Allowed,
    Identity,
    LinkOptionsError,
    LinkRules,
    PrivateFiles,
    Reason,
    Refusal,
    ZipAccess,
)
from bot.policy.directory import TtlCache

HOME = "T0HOME0001"


def member(**overrides: object) -> Identity:
    values: dict[str, object] = {
        "user_id": "U0MEMBER1",
        "team_id": HOME,
        "channel_id": "C0GENERAL",
        "user_team_id": HOME,
        "guest": False,
    }
    values.update(overrides)
    return Identity(**values)  # type: ignore[arg-type]


def decide(identity: Identity, **settings: object) -> Allowed | Refusal:
    policy = AccessPolicy(settings=AccessSettings(**settings))  # type: ignore[arg-type]
    return policy.decide(identity, home_team=HOME)


def test_an_ordinary_member_is_allowed_by_default() -> None:
    assert decide(member()) == Allowed(admin=False)


@pytest.mark.parametrize(
    ("identity", "settings", "reason"),
    [
        (member(team_id="T0OTHER01"), {}, Reason.TEAM),
        (member(user_team_id="T0PARTNER"), {}, Reason.EXTERNAL),
        (member(user_team_id=None), {}, Reason.UNAVAILABLE),
        (member(guest=True), {}, Reason.GUEST),
        (member(guest=None), {}, Reason.UNAVAILABLE),
        (member(deleted=True), {}, Reason.UNKNOWN_USER),
        (member(), {"allowed_channels": frozenset({"C0OTHER01"})}, Reason.CHANNEL),
        (member(), {"allowed_users": frozenset({"U0SOMEONE"})}, Reason.USER),
        (member(), {"allowed_usergroups": frozenset({"S0GROUP01"})}, Reason.USER),
    ],
)
def test_refusals_say_why(identity: Identity, settings: dict[str, object], reason: Reason) -> None:
    decision = decide(identity, **settings)
    assert isinstance(decision, Refusal)
    assert decision.reason is reason
    assert decision.message.endswith(".")


def test_group_membership_and_admins_pass_the_lists() -> None:
    groups = {"allowed_usergroups": frozenset({"S0GROUP01"})}
    assert decide(member(groups=frozenset({"S0GROUP01"})), **groups).allowed
    admin = member(user_id="U0ADMIN01", channel_id="C0ELSE001")
    decision = decide(admin, admins=frozenset({"U0ADMIN01"}), allowed_channels=frozenset({"C1"}))
    assert decision == Allowed(admin=True)
    # … but not the guest or organisation checks.
    guest_admin = member(user_id="U0ADMIN01", guest=True)
    assert not decide(guest_admin, admins=frozenset({"U0ADMIN01"})).allowed


def test_allowed_teams_replace_the_home_workspace_and_take_org_ids() -> None:
    grid = member(team_id="T0GRIDWS1", enterprise_id="E0GRID001", user_team_id="E0GRID001")
    assert decide(grid, allowed_teams=frozenset({"E0GRID001"})).allowed
    assert not decide(member(), allowed_teams=frozenset({"E0GRID001"})).allowed


def test_the_global_shortcut_is_not_refused_for_a_conversation_not_chosen_yet() -> None:
    pending = member(channel_id=None, channel_pending=True)
    assert decide(pending, allowed_channels=frozenset({"C0OTHER01"})).allowed


def test_refusals_name_the_admins() -> None:
    decision = decide(member(guest=True), admins=frozenset({"U0ADMIN01", "U0ADMIN02"}))
    assert isinstance(decision, Refusal)
    assert "<@U0ADMIN01>, <@U0ADMIN02>" in decision.message


@pytest.mark.parametrize(
    ("rule", "admin", "allowed"),
    [
        (PrivateFiles.EVERYONE, False, True),
        (PrivateFiles.ADMINS, False, False),
        (PrivateFiles.ADMINS, True, True),
        (PrivateFiles.NOBODY, True, False),
    ],
)
def test_private_files_rule(rule: PrivateFiles, admin: bool, allowed: bool) -> None:
    policy = AccessPolicy(AccessSettings(admins=frozenset({"U0ADMIN01"}), private_files=rule))
    assert policy.may_link_private("U0ADMIN01" if admin else "U0MEMBER1") is allowed


def test_zip_is_admins_only_unless_everyone() -> None:
    admins = AccessPolicy(AccessSettings(admins=frozenset({"U0A"}), zip=ZipAccess.ADMINS))
    assert admins.may_zip("U0A")
    assert not admins.may_zip("U0B")
    assert AccessPolicy(AccessSettings(zip=ZipAccess.EVERYONE)).may_zip("U0B")
    assert not AccessPolicy(AccessSettings(admins=frozenset({"U0A"}))).may_zip("U0A")


def test_link_rules_in_one_place() -> None:
    rules = LinkRules(max_expiry=timedelta(days=1), redirect_hosts=frozenset({"example.com"}))
    assert rules.resolve_expiry(None) == timedelta(hours=1)
    with pytest.raises(LinkOptionsError, match="at most 1 day"):
        rules.resolve_expiry(timedelta(days=2))
    with pytest.raises(LinkOptionsError, match="at most 20 renditions"):
        rules.check_asset_keys(tuple(f"k{i}" for i in range(21)))
    rules.check_redirect("https://example.com/expired")
    with pytest.raises(LinkOptionsError, match=r"example\.com"):
        rules.check_redirect("https://evil.example/")


def test_the_cache_expires_and_stays_bounded() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(ttl=300, max_entries=3, clock=lambda: now[0])
    for i in range(10):
        cache.put(f"U{i}", i)
    assert len(cache) == 3
    assert cache.get("U0") is None
    assert cache.get("U9") == 9
    now[0] = 300.0
    assert cache.get("U9") is None


def test_describe_names_every_rule() -> None:
    lines = "\n".join(AccessPolicy().describe(home_team=HOME))
    for word in ("workspaces", "channels", "guests", "private files", "redirect", "zip"):
        assert word in lines
    assert HOME in lines


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("medialink_allowed_users", "C0NOTAUSER", "MEDIALINK_ALLOWED_USERS"),
        ("medialink_allowed_usergroups", "U0NOTGROUP", "MEDIALINK_ALLOWED_USERGROUPS"),
        ("medialink_private_files", "some", "everyone, admins or nobody"),
        ("medialink_zip_enabled", "maybe", "false, admins or everyone"),
        ("medialink_redirect_hosts", "https://x.example", "host name"),
    ],
)
def test_bad_settings_say_what_to_fix(setting: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        load_settings(env_file=None, **{setting: value})


def test_the_expiry_redirect_must_be_on_the_allowed_hosts() -> None:
    with pytest.raises(SettingsError, match="MEDIALINK_REDIRECT_HOSTS"):
        load_settings(
            env_file=None,
            medialink_redirect_hosts="example.com",
            medialink_expiration_redirect_url="https://elsewhere.example/gone",
        )
    settings = load_settings(env_file=None, medialink_allowed_users=" U0A1, W0B2 ,")
    assert settings.medialink_allowed_users == frozenset({"U0A1", "W0B2"})
