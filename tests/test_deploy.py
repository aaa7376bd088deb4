"""The Kubernetes example in deploy/ agrees with the image and with MediaLink: probes
on the paths and port the app serves, a grace period longer than the drain, the
image's user, real setting names, and every secret from the Secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from bot.config import Settings
from bot.server import HEALTH_PATH, READY_PATH, STOP_GRACE
from tests.test_container import DOCKER, user_ids

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
Manifest = dict[str, Any]


def manifests() -> dict[str, Manifest]:
    found: dict[str, Manifest] = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            assert isinstance(document, dict), path
            found[document["kind"]] = document
    return found


@pytest.fixture(scope="module")
def kinds() -> dict[str, Manifest]:
    found = manifests()
    assert set(found) == {"Deployment", "Secret", "Service"}
    return found


@pytest.fixture(scope="module")
def pod(kinds: dict[str, Manifest]) -> Manifest:
    spec: Manifest = kinds["Deployment"]["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def container(pod: Manifest) -> Manifest:
    containers: list[Manifest] = pod["containers"]
    [only] = containers
    return only


def env_of(container: Manifest) -> dict[str, Manifest]:
    names = [item["name"] for item in container["env"]]
    assert len(names) == len(set(names)), "a variable is set twice"
    return {item["name"]: item for item in container["env"]}


def port_number(container: Manifest, port: int | str) -> int:
    if isinstance(port, int):
        return port
    [number] = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


def test_two_replicas_of_the_app_selected_by_the_service(kinds: dict[str, Manifest]) -> None:
    deployment, service = kinds["Deployment"], kinds["Service"]
    assert deployment["spec"]["replicas"] == 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == "http"


def test_the_probes_ask_the_app_s_own_paths_on_its_port(container: Manifest) -> None:
    port = int(DOCKER.runtime.env()["PORT"])
    assert port_number(container, "http") == port
    assert int(DOCKER.runtime.one("EXPOSE")) == port
    env = env_of(container)
    assert env.get("PORT", {"value": str(port)})["value"] == str(port)
    probes = {
        name: container[name]["httpGet"]
        for name in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes["readinessProbe"]["path"] == READY_PATH
    assert probes["livenessProbe"]["path"] == HEALTH_PATH
    assert probes["startupProbe"]["path"] == HEALTH_PATH
    for probe in probes.values():
        assert port_number(container, probe["port"]) == port


def test_the_grace_period_covers_the_pause_and_the_drain(
    pod: Manifest, container: Manifest
) -> None:
    pause = 0.0
    pre_stop = container.get("lifecycle", {}).get("preStop")
    if pre_stop is not None:
        command = pre_stop["exec"]["command"]
        assert command[0] == "sleep"
        pause = float(command[1])
    assert pod["terminationGracePeriodSeconds"] > pause + STOP_GRACE


def test_the_pod_runs_as_the_image_s_user_and_may_not_escalate(
    pod: Manifest, container: Manifest
) -> None:
    uid, gid = user_ids(DOCKER.runtime)
    context = pod["securityContext"]
    assert context["runAsNonRoot"] is True
    assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid)
    own = container["securityContext"]
    assert own["allowPrivilegeEscalation"] is False
    assert own["readOnlyRootFilesystem"] is True
    assert own["capabilities"]["drop"] == ["ALL"]
    # A read-only root keeps the audit trail off the image's file system.
    assert "DATABASE_URL" in env_of(container)
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]["memory"]


def test_every_variable_is_a_setting_and_every_secret_comes_from_the_secret(
    kinds: dict[str, Manifest], container: Manifest
) -> None:
    settings = {name.upper(): field for name, field in Settings.model_fields.items()}
    secret = kinds["Secret"]
    secret_keys = set(secret["stringData"])
    from_secret: set[str] = set()
    for name, item in env_of(container).items():
        assert name in settings, name
        reference = item.get("valueFrom", {}).get("secretKeyRef")
        if reference is not None:
            assert reference == {"name": secret["metadata"]["name"], "key": name}
            from_secret.add(name)
        elif name in settings:
            assert "SecretStr" not in str(settings[name].annotation), f"{name} is a secret"
    assert from_secret == secret_keys
    assert {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "WIX_API_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "MEDIALINK_ENCRYPTION_KEY",
    } <= from_secret
    # Placeholders only: nothing that could be a real credential is in the example.
    for value in secret["stringData"].values():
        assert "REPLACE-ME" in value


def test_the_example_s_settings_are_valid_settings(container: Manifest) -> None:
    values = {name: item["value"] for name, item in env_of(container).items() if "value" in item}
    values |= {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "WIX_API_KEY": "k"}
    settings = Settings.model_validate({name.lower(): v for name, v in values.items()})
    settings.require_slack()
    settings.wix_credentials()
    assert isinstance(settings.slack_bot_token, SecretStr)
