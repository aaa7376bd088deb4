"""The stored sites: the key list, encryption, rotation, and the store's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.audit.store import SqlAuditTrail
from bot.config import SettingsError, load_settings
from bot.sites.keys import Keyring, KeyringError, new_key
from bot.sites.model import AuthKind, SiteInputError, check_domains, check_name, check_site_id
from bot.sites.store import SiteStore, SiteStoreError
from tests.log_secrets import SITE_KEYS

OLD_KEY, NEW_KEY = SITE_KEYS


def test_a_bad_key_list_names_the_position_never_the_key() -> None:
    bad = "not-a-fernet-key-but-quite-long-0123456789"
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None, medialink_encryption_key=f"{OLD_KEY},{bad}")
    assert "MEDIALINK_ENCRYPTION_KEY is not valid; use one or more comma-separated Fernet" in str(
        caught.value
    )
    assert bad not in str(caught.value)
    assert OLD_KEY not in str(caught.value)


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old = Keyring(OLD_KEY)
    sealed = old.encrypt({"api_key": "IST.secret"})
    assert "IST.secret" not in sealed
    both = Keyring(f"{NEW_KEY},{OLD_KEY}")
    assert both.decrypt(sealed) == {"api_key": "IST.secret"}
    with pytest.raises(KeyringError) as caught:
        Keyring(NEW_KEY).decrypt(sealed)
    assert "rotate-key" in str(caught.value)
    assert Keyring(NEW_KEY).decrypt(both.rotate(sealed)) == {"api_key": "IST.secret"}
    assert len(new_key()) == 44


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (check_name, "Bad Name!"),
        (check_name, "default"),
        (check_name, "x" * 41),
        (check_site_id, "not-a-guid"),
        (check_domains, "static.wixstatic.com"),
        (check_domains, "http://"),
        (check_domains, ",".join(f"a{i}.example.com" for i in range(21))),
    ],
)
def test_admin_input_is_checked_with_a_sentence(check: object, value: str) -> None:
    with pytest.raises(SiteInputError) as caught:
        check(value)  # type: ignore[operator]
    assert str(caught.value).endswith(".")


def test_domains_are_read_from_urls_and_lines() -> None:
    assert check_domains("https://www.Client.com/_files/ugd/x\nshop.client.com, ") == (
        "www.client.com",
        "shop.client.com",
    )


async def _store(tmp_path: Path) -> tuple[SiteStore, SqlAuditTrail]:
    audit = SqlAuditTrail(f"sqlite+aiosqlite:///{tmp_path}/medialink.db")
    return SiteStore(f"sqlite+aiosqlite:///{tmp_path}/medialink.db", migrate=audit.migrate), audit


async def test_rotation_keeps_old_rows_readable_and_can_run_twice(tmp_path: Path) -> None:
    store, audit = await _store(tmp_path)
    old = Keyring(OLD_KEY)
    try:
        for number in range(5):  # more rows than one batch below
            await store.add_site(
                tenant="T1",
                name=f"site-{number}",
                site_id=f"2f1a6a5e-0000-4000-8000-00000000000{number}",
                kind=AuthKind.API_KEY,
                sealed=old.encrypt({"api_key": f"IST.key-{number}"}),
                domains=(),
                by="U1",
            )
        rotating = Keyring(f"{NEW_KEY},{OLD_KEY}")
        # While the new key is first and before rotation: every row still opens.
        snap = await store.snapshot()
        assert all(rotating.decrypt(r.sealed) for r in snap.sites["T1"].values())
        report = await store.rotate(rotating, batch=2)
        assert (report.rotated, report.unreadable) == (5, 0)
        again = await store.rotate(rotating, batch=2)
        assert (again.rotated, again.unreadable) == (5, 0)
        new_only = Keyring(NEW_KEY)
        snap = await store.snapshot()
        assert {
            name: new_only.decrypt(r.sealed)["api_key"] for name, r in snap.sites["T1"].items()
        } == {f"site-{n}": f"IST.key-{n}" for n in range(5)}
        # A row no key opens is counted, never dropped.
        report = await store.rotate(Keyring(new_key()))
        assert report.unreadable == 5
    finally:
        await store.aclose()
        await audit.aclose()


async def test_names_and_domains_are_unique_per_tenant_and_isolated(tmp_path: Path) -> None:
    store, audit = await _store(tmp_path)
    sealed = Keyring(OLD_KEY).encrypt({"api_key": "IST.k"})
    try:

        async def add(tenant: str, name: str, domains: tuple[str, ...]) -> None:
            await store.add_site(
                tenant=tenant,
                name=name,
                site_id="2f1a6a5e-0000-4000-8000-000000000001",
                kind=AuthKind.API_KEY,
                sealed=sealed,
                domains=domains,
                by=None,
            )

        await add("T1", "acme", ("a.com",))
        with pytest.raises(SiteStoreError, match="already connected"):
            await add("T1", "acme", ())
        with pytest.raises(SiteStoreError, match="already belongs to the site acme"):
            await add("T1", "beta", ("a.com",))
        # Another workspace may use the same name and domain: nothing is shared.
        await add("T2", "acme", ("a.com",))
        await store.set_channel_site(tenant="T1", channel_id="C1", name="acme")
        await store.rename_site(tenant="T1", name="acme", new_name="acme-shop", by="U1")
        snap = await store.snapshot()
        assert set(snap.sites["T1"]) == {"acme-shop"}
        assert snap.domains["T1"] == {"a.com": "acme-shop"}
        assert snap.channels["T1"] == {"C1": "acme-shop"}
        assert snap.domains["T2"] == {"a.com": "acme"}
        await store.remove_site(tenant="T1", name="acme-shop")
        snap = await store.snapshot()
        assert "T1" not in snap.sites
        assert "T1" not in snap.domains
        assert "T1" not in snap.channels
        assert set(snap.sites["T2"]) == {"acme"}
    finally:
        await store.aclose()
        await audit.aclose()
