"""`medialink sites`, `rotate-key`, `new-key` and `link --site`, run as people run them:
argv in, stdout/stderr and exit code out, against the fake Wix hosting several sites and
the sites stored (encrypted) in the test's own database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.audit.store import SqlAuditTrail
from bot.sites.keys import Keyring, new_key
from bot.sites.model import AuthKind
from bot.sites.store import SiteStore
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.log_secrets import SITE_KEYS
from tests.test_cli import api_key_env, run, wix  # noqa: F401 - the fixture, shared

OLD_KEY, NEW_KEY = SITE_KEYS
# A key nobody has any more: what a row sealed with it looks like to every key list.
LOST_KEY = new_key()
TEAM_1, TEAM_2 = "T0AGENCY1", "T0BRAND02"


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``run`` bound to the test's capture and environment: ``cli(argv, env)``."""

    def call(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
        return run(argv, capsys, monkeypatch, env)

    return call


def sites_env(fake: FakeWix, key: str = OLD_KEY) -> dict[str, str]:
    """The environment's site, and ``key`` (the stored sites' by default) to open the rest."""
    return api_key_env(fake) | {"MEDIALINK_ENCRYPTION_KEY": key}


@dataclass(frozen=True)
class Stored:
    tenant: str
    name: str
    site_id: str
    api_key: str
    domains: tuple[str, ...] = ()


def on_store(database_url: str, work: Callable[[SiteStore], Awaitable[None]]) -> None:
    """Run ``work`` on the test database's site store, as the app opens it."""

    async def run_work() -> None:
        audit = SqlAuditTrail(database_url)
        store = SiteStore(database_url, migrate=audit.migrate)
        try:
            await work(store)
        finally:
            await store.aclose()
            await audit.aclose()

    asyncio.run(run_work())


def store_sites(database_url: str, sites: list[Stored], *, key: str = OLD_KEY) -> None:
    """Connect ``sites`` as the sites modal does: the store, credentials sealed with ``key``."""
    keyring = Keyring(key)

    async def write(store: SiteStore) -> None:
        for site in sites:
            await store.add_site(
                tenant=site.tenant,
                name=site.name,
                site_id=site.site_id,
                kind=AuthKind.API_KEY,
                sealed=keyring.encrypt({"api_key": site.api_key}),
                domains=site.domains,
                by="U0ADMIN01",
            )

    on_store(database_url, write)


def map_channel(database_url: str, tenant: str, channel_id: str, name: str) -> None:
    """Make ``name`` the site ``channel_id`` uses by default, as the sites modal does."""

    async def write(store: SiteStore) -> None:
        await store.set_channel_site(tenant=tenant, channel_id=channel_id, name=name)

    on_store(database_url, write)


def sealed_rows(database_url: str) -> dict[tuple[str, str], str]:
    """(tenant, name) → the stored, encrypted credentials."""

    async def read() -> dict[tuple[str, str], str]:
        audit = SqlAuditTrail(database_url)
        store = SiteStore(database_url, migrate=audit.migrate)
        try:
            snap = await store.snapshot()
        finally:
            await store.aclose()
            await audit.aclose()
        return {
            (tenant, name): record.sealed
            for tenant, records in snap.sites.items()
            for name, record in records.items()
        }

    return asyncio.run(read())


def connect_on_wix(
    fake: FakeWix, tenant: str, name: str, *, domains: tuple[str, ...] = ()
) -> Stored:
    site_id, api_key, _ = fake.add_site()
    return Stored(tenant, name, site_id, api_key, domains)


# ------------------------------------------------------------------ medialink sites


def test_sites_lists_every_workspaces_sites_and_never_a_key(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    acme = connect_on_wix(wix, TEAM_1, "acme", domains=("www.acme.com",))
    beta = connect_on_wix(wix, TEAM_1, "beta")
    other = connect_on_wix(wix, TEAM_2, "acme", domains=("shop.brand.io",))
    store_sites(audit_database, [acme, beta, other])
    sealed = sealed_rows(audit_database)
    env = sites_env(wix)

    code, table, err = cli(["sites"], env)
    assert code == 0, err
    lines = table.splitlines()
    assert lines[0].split() == ["TEAM", "NAME", "SITE", "ID", "AUTH", "DOMAINS", "DEFAULT", "IN"]
    assert lines[1].split()[:4] == ["*", "default", FakeWix.SITE_ID, "environment"]
    rows = [line.split() for line in lines[2:]]
    assert [row[:4] for row in rows] == [
        [TEAM_1, "acme", acme.site_id, "api_key"],
        [TEAM_1, "beta", beta.site_id, "api_key"],
        [TEAM_2, "acme", other.site_id, "api_key"],
    ]
    assert rows[0][4] == "www.acme.com"
    assert rows[2][4] == "shop.brand.io"

    code, out, err = cli(["sites", "--json"], env)
    assert code == 0, err
    listed = json.loads(out)["sites"]
    assert {(row["team"], row["name"], row["site_id"]) for row in listed} == {
        ("*", "default", FakeWix.SITE_ID),
        (TEAM_1, "acme", acme.site_id),
        (TEAM_1, "beta", beta.site_id),
        (TEAM_2, "acme", other.site_id),
    }
    for row in listed:
        assert set(row) == {"team", "name", "site_id", "auth", "domains", "default_in"}

    code, only, err = cli(["sites", "--team", TEAM_2, "--json"], env)
    assert code == 0, err
    assert [(r["team"], r["name"]) for r in json.loads(only)["sites"]] == [(TEAM_2, "acme")]

    # No key material anywhere: not a site's key, not its sealed form, not the
    # encryption key, not the environment's key.
    shown = table + out + only + err
    for secret in (
        *(site.api_key for site in (acme, beta, other)),
        *sealed.values(),
        OLD_KEY,
        FakeWix.API_KEY,
    ):
        assert secret not in shown
    assert "IST." not in shown
    assert "gAAAAA" not in shown  # the start of every Fernet token


def test_sites_in_oauth_mode_lists_the_environments_site_only_where_it_serves(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    # With Slack OAuth the environment's site serves only MEDIALINK_ALLOWED_TEAMS, so the
    # listing names those workspaces, never "*" (every workspace).
    acme = connect_on_wix(wix, TEAM_2, "acme")
    store_sites(audit_database, [acme])
    # TEAM_2 made a channel default to the environment's site while it was allowed it.
    map_channel(audit_database, TEAM_2, "C0BRANDNEW", "default")
    env = sites_env(wix) | {
        "SLACK_CLIENT_ID": "1234.5678",
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_STATE_SECRET": "state-secret-" + "0" * 32,
        "MEDIALINK_ALLOWED_TEAMS": TEAM_1,
    }

    code, out, err = cli(["sites", "--json"], env)
    assert code == 0, err
    assert [(r["team"], r["name"], r["site_id"]) for r in json.loads(out)["sites"]] == [
        (TEAM_1, "default", FakeWix.SITE_ID),
        (TEAM_2, "acme", acme.site_id),
    ]
    code, out, err = cli(["sites", "--team", TEAM_2, "--json"], env)
    assert code == 0, err
    assert [(r["team"], r["name"]) for r in json.loads(out)["sites"]] == [(TEAM_2, "acme")]

    code, out, err = cli(["sites", "--json"], env | {"MEDIALINK_ALLOWED_TEAMS": ""})
    assert code == 0, err
    assert [(r["team"], r["name"]) for r in json.loads(out)["sites"]] == [(TEAM_2, "acme")]


# ------------------------------------------------------------------ rotate-key, new-key


def test_rotate_key_keeps_every_row_readable_with_the_new_key(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    acme = connect_on_wix(wix, TEAM_1, "acme")
    beta = connect_on_wix(wix, TEAM_1, "beta")
    store_sites(audit_database, [acme, beta], key=OLD_KEY)
    before = sealed_rows(audit_database)
    file_id = wix.add_site_file(beta.site_id, kind="document", display_name="beta-plan.pdf")

    code, out, err = cli(["rotate-key"], sites_env(wix, f"{NEW_KEY},{OLD_KEY}"))
    assert code == 0, err
    assert out == "re-encrypted 2 stored site credentials with the first key\n"
    after = sealed_rows(audit_database)
    assert set(after) == set(before)
    assert all(after[row] != before[row] for row in after)
    new_only = Keyring(NEW_KEY)
    assert {row: new_only.decrypt(sealed)["api_key"] for row, sealed in after.items()} == {
        (TEAM_1, "acme"): acme.api_key,
        (TEAM_1, "beta"): beta.api_key,
    }
    # The old key is dropped: links are still made on the site, with its key.
    code, out, err = cli(["link", "--site", "beta", file_id, "--json"], sites_env(wix, NEW_KEY))
    assert code == 0, err
    [made] = json.loads(out)["files"]
    assert made["site"] == "beta"
    assert made["links"]
    [request] = wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
    assert (request.site, request.headers["authorization"]) == (beta.site_id, beta.api_key)


def test_rotate_key_exits_1_on_a_row_no_key_opens_and_keeps_it(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    readable = connect_on_wix(wix, TEAM_1, "acme")
    lost = connect_on_wix(wix, TEAM_1, "lost")
    store_sites(audit_database, [readable], key=OLD_KEY)
    store_sites(audit_database, [lost], key=LOST_KEY)
    lost_sealed = sealed_rows(audit_database)[(TEAM_1, "lost")]
    env = sites_env(wix, f"{NEW_KEY},{OLD_KEY}")

    code, out, err = cli(["rotate-key"], env)
    assert code == 1
    assert "re-encrypted 1 stored site credentials with the first key" in out
    assert "1 could not be read with any key in MEDIALINK_ENCRYPTION_KEY" in out
    assert "put back the key they were stored with" in out
    assert LOST_KEY not in out + err
    after = sealed_rows(audit_database)
    assert after[(TEAM_1, "lost")] == lost_sealed  # kept as it was, for its key's return
    assert Keyring(NEW_KEY).decrypt(after[(TEAM_1, "acme")])["api_key"] == readable.api_key
    # Still listed.
    code, out, _ = cli(["sites", "--json"], env)
    assert code == 0
    assert (TEAM_1, "lost") in {(r["team"], r["name"]) for r in json.loads(out)["sites"]}


def test_rotate_key_without_a_key_says_so(cli: Cli) -> None:
    code, out, err = cli(["rotate-key"])
    assert code == 2
    assert out == ""
    assert "MEDIALINK_ENCRYPTION_KEY is not set" in err
    assert "Traceback" not in err


def test_new_key_prints_a_fresh_key_the_settings_accept(cli: Cli) -> None:
    code, first, err = cli(["new-key"])
    assert (code, err) == (0, "")
    code, second, _ = cli(["new-key"])
    assert code == 0
    keys = [first.strip(), second.strip()]
    assert keys[0] != keys[1]
    assert all(len(key) == 44 for key in keys)
    # Usable as the setting, both at once (the first encrypts, every one decrypts).
    sealed = Keyring(",".join(keys)).encrypt({"api_key": "IST.x"})
    assert Keyring(keys[0]).decrypt(sealed) == {"api_key": "IST.x"}
    assert Keyring(f"{keys[1]},{keys[0]}").decrypt(sealed) == {"api_key": "IST.x"}


# ------------------------------------------------------------------ link --site


def test_link_with_site_makes_the_link_on_that_site_with_its_key(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    acme = connect_on_wix(wix, TEAM_1, "acme")
    beta = connect_on_wix(wix, TEAM_1, "beta")
    store_sites(audit_database, [acme, beta])
    file_id = wix.add_site_file(acme.site_id, kind="image", display_name="acme-logo.png")
    env = sites_env(wix)

    code, out, err = cli(["link", "--site", "acme", file_id], env)
    assert code == 0, err
    assert f"acme-logo.png ({file_id})" in out
    assert "  site: acme\n" in out
    [request] = wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
    assert request.site == acme.site_id
    assert request.headers["wix-site-id"] == acme.site_id
    assert request.headers["authorization"] == acme.api_key
    [issued] = wix.issued
    assert f"  src: {issued.url}\n" in out
    assert not wix.requests_for_site(beta.site_id)
    assert not wix.requests_for_site(FakeWix.SITE_ID)


def test_link_with_an_unknown_site_exits_2_and_says_where_to_look(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    store_sites(audit_database, [connect_on_wix(wix, TEAM_1, "acme")])
    env = sites_env(wix)
    file_id = wix.add_file(kind="image")
    code, out, err = cli(["link", "--site", "nope", file_id], env)
    assert code == 2
    assert out == ""
    assert err == (
        "medialink link: no site named nope is connected; `medialink sites` lists them\n"
    )
    assert wix.requests == []


def test_link_with_a_name_two_workspaces_use_needs_team(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    agency = connect_on_wix(wix, TEAM_1, "acme")
    brand = connect_on_wix(wix, TEAM_2, "acme")
    store_sites(audit_database, [agency, brand])
    file_id = wix.add_site_file(brand.site_id, kind="document", display_name="brand-deck.pdf")
    env = sites_env(wix)

    code, out, err = cli(["link", "--site", "acme", file_id], env)
    assert code == 2
    assert "several workspaces have a site named acme" in err
    assert TEAM_1 in err
    assert TEAM_2 in err
    assert "--team" in err
    assert wix.requests == []

    argv = ["link", "--site", "acme", "--team", TEAM_2, file_id, "--json"]
    code, out, err = cli(argv, env)
    assert code == 0, err
    [made] = json.loads(out)["files"]
    assert (made["site"], made["error"]) == ("acme", None)
    [request] = wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
    assert (request.site, request.headers["authorization"]) == (brand.site_id, brand.api_key)
    assert not wix.requests_for_site(agency.site_id)

    # A team without such a site: told which sites it has.
    argv = ["link", "--site", "acme", "--team", "T0NOBODY1", file_id]
    code, out, err = cli(argv, env)
    assert code == 2
    assert "No site named acme is connected here" in err
    assert "Traceback" not in err


def test_link_with_site_but_no_encryption_key_names_the_setting(
    wix: FakeWix,  # noqa: F811
    audit_database: str,
    cli: Cli,
) -> None:
    """An operator's shell without MEDIALINK_ENCRYPTION_KEY: the stored key cannot be
    read, and the message says so, not that Wix could not be reached."""
    acme = connect_on_wix(wix, TEAM_1, "acme")
    store_sites(audit_database, [acme])
    file_id = wix.add_site_file(acme.site_id, kind="image")
    code, out, err = cli(["link", "--site", "acme", file_id], api_key_env(wix))
    assert code == 2
    assert out == ""
    assert "MEDIALINK_ENCRYPTION_KEY is not set" in err
    assert "could not call Wix" not in err
    assert "WIX_API_URL" not in err
    assert wix.requests == []
    # The environment's own site needs no key.
    code, out, err = cli(
        ["link", "--site", "default", wix.add_file(kind="image")], api_key_env(wix)
    )
    assert code == 0, err
