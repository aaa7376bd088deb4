from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import (
    Settings,
    SettingsError,
    WixApiKeyCredentials,
    WixOAuthCredentials,
    load_settings,
)

ENV_NAMES = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "WIX_API_KEY",
    "WIX_SITE_ID",
    "WIX_CLIENT_ID",
    "WIX_CLIENT_SECRET",
    "WIX_INSTANCE_ID",
    "WIX_API_URL",
    "MEDIALINK_DEFAULT_EXPIRY",
    "MEDIALINK_MAX_EXPIRY",
    "MEDIALINK_EXPIRATION_REDIRECT_URL",
    "MEDIALINK_MAX_REFS",
    "MEDIALINK_SHARE_ENABLED",
    "MEDIALINK_USER_FILES_PER_MINUTE",
    "HOST",
    "PORT",
    "LOG_LEVEL",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def problems(**env: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
    return str(caught.value)


def test_defaults_match_the_documented_interface() -> None:
    settings = load_settings()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.wix_api_url == "https://www.wixapis.com"
    assert settings.medialink_default_expiry == timedelta(minutes=60)
    assert settings.medialink_max_expiry == timedelta(days=7)
    assert settings.medialink_expiration_redirect_url is None
    assert settings.medialink_max_refs == 50
    assert settings.host == "0.0.0.0"
    assert settings.port == 3000
    assert settings.slack_app_token is None


def test_every_variable_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "sig",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "WIX_API_KEY": "IST.key",
        "WIX_SITE_ID": "site",
        "WIX_API_URL": "http://127.0.0.1:9/",
        "MEDIALINK_DEFAULT_EXPIRY": "90",
        "MEDIALINK_MAX_EXPIRY": "2d",
        "MEDIALINK_EXPIRATION_REDIRECT_URL": "https://example.com/expired",
        "MEDIALINK_MAX_REFS": "20",
        "MEDIALINK_SHARE_ENABLED": "false",
        "HOST": "127.0.0.1",
        "PORT": "8080",
        "LOG_LEVEL": "debug",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.wix_api_url == "http://127.0.0.1:9"
    assert settings.medialink_default_expiry == timedelta(minutes=90)
    assert settings.medialink_max_expiry == timedelta(days=2)
    assert settings.medialink_expiration_redirect_url == "https://example.com/expired"
    assert settings.medialink_max_refs == 20
    assert settings.medialink_share_enabled is False
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8080, "DEBUG")
    assert settings.wix_credentials() == WixApiKeyCredentials(
        api_key=settings.wix_api_key,  # type: ignore[arg-type]
        site_id="site",
    )
    settings.require_slack()


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "WIX_CLIENT_ID=app\nWIX_CLIENT_SECRET=s3cret\nWIX_INSTANCE_ID=i\n"
    )
    credentials = load_settings().wix_credentials()
    assert isinstance(credentials, WixOAuthCredentials)
    assert credentials.client_id == "app"
    assert credentials.client_secret.get_secret_value() == "s3cret"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"MEDIALINK_DEFAULT_EXPIRY": "soon"},
            "MEDIALINK_DEFAULT_EXPIRY is not valid; use a number",
        ),
        ({"MEDIALINK_MAX_EXPIRY": "400d"}, "MEDIALINK_MAX_EXPIRY is longer than Wix allows"),
        (
            {"MEDIALINK_DEFAULT_EXPIRY": "8d"},
            "MEDIALINK_DEFAULT_EXPIRY (8 days) is longer than MEDIALINK_MAX_EXPIRY (7 days)",
        ),
        ({"MEDIALINK_EXPIRATION_REDIRECT_URL": "http://x.example"}, "use an https:// URL"),
        ({"PORT": "http"}, "PORT is not valid; use a port number"),
        ({"PORT": "70000"}, "PORT is not valid"),
        ({"WIX_API_URL": "ftp://x"}, "WIX_API_URL is not valid; use an http(s) URL"),
        ({"MEDIALINK_MAX_REFS": "0"}, "MEDIALINK_MAX_REFS is not valid; use a whole number"),
        ({"WIX_API_KEY": "IST.k"}, "WIX_API_KEY is set but WIX_SITE_ID is not"),
        (
            {"WIX_CLIENT_ID": "c"},
            "WIX_CLIENT_ID is set but WIX_CLIENT_SECRET, WIX_INSTANCE_ID are not",
        ),
        (
            {
                "WIX_API_KEY": "k",
                "WIX_SITE_ID": "s",
                "WIX_CLIENT_ID": "c",
                "WIX_CLIENT_SECRET": "x",
                "WIX_INSTANCE_ID": "i",
            },
            "keep one way of signing in to Wix",
        ),
    ],
)
def test_bad_values_name_the_variable_and_the_fix(env: dict[str, str], expected: str) -> None:
    assert expected in problems(**env)


def test_each_problem_is_one_bullet_with_its_fix_on_it() -> None:
    message = problems(
        MEDIALINK_DEFAULT_EXPIRY="8d", PORT="9100", METRICS_PORT="9100", WIX_API_KEY="IST.k"
    )
    bullets = [line for line in message.splitlines() if line.lstrip().startswith("- ")]
    assert len(bullets) == 3, message
    [expiry] = [line for line in bullets if "MEDIALINK_DEFAULT_EXPIRY" in line]
    assert expiry.endswith("shorten the default or raise the maximum")
    [metrics] = [line for line in bullets if "METRICS_PORT" in line]
    assert "unset METRICS_PORT" in metrics
    [wix] = [line for line in bullets if "WIX_API_KEY" in line]
    assert wix.endswith("set all of them or none")


SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-very-secret-bot-token",
    "SLACK_APP_TOKEN": "xapp-very-secret-app-token",
    "SLACK_SIGNING_SECRET": "very-secret-signing-secret",
    "WIX_API_KEY": "IST.very-secret-key",
    "WIX_CLIENT_SECRET": "very-secret-app-secret",
}
WIX_SIGN_INS = {
    "api-key": ("WIX_API_KEY", {"WIX_SITE_ID": "site"}),
    "oauth": ("WIX_CLIENT_SECRET", {"WIX_CLIENT_ID": "app", "WIX_INSTANCE_ID": "instance"}),
}


@pytest.mark.parametrize("sign_in", WIX_SIGN_INS, ids=WIX_SIGN_INS.keys())
def test_secrets_never_appear_in_errors_or_reprs(
    monkeypatch: pytest.MonkeyPatch, sign_in: str
) -> None:
    secret_name, others = WIX_SIGN_INS[sign_in]
    slack = {name: value for name, value in SECRETS.items() if name.startswith("SLACK_")}
    for name, value in {**slack, secret_name: SECRETS[secret_name], **others}.items():
        monkeypatch.setenv(name, value)
    message = problems(PORT="not-a-port", **SECRETS)
    settings = load_settings()
    credentials = settings.wix_credentials()
    texts = [message, repr(settings), str(settings), settings.model_dump_json()]
    texts += [repr(credentials), str(credentials)]
    for text in texts:
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} shows in {text!r}"
            assert secret.split("-", 1)[1] not in text, f"part of {name} shows in {text!r}"


def test_missing_wix_credentials_say_how_to_get_them() -> None:
    with pytest.raises(SettingsError, match="Manage Media Manager"):
        load_settings().wix_credentials()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "must be a bot token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "must be an app-level token"),
    ],
)
def test_require_slack_names_what_is_missing(env: dict[str, str], expected: str) -> None:
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=expected):
        settings.require_slack()


def test_env_example_documents_every_variable() -> None:
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for name in ENV_NAMES:
        assert name in example, name


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, set()),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, set()),  # Socket Mode
        (
            {"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_APP_TOKEN": "xoxb-2"},
            {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"},
        ),
    ],
)
def test_slack_problems_are_keyed_by_the_setting_to_fix(
    env: dict[str, str], expected: set[str]
) -> None:
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    problems = settings.slack_problems()
    assert set(problems) == expected
    for name, message in problems.items():
        assert message.startswith(name)


def test_every_secret_setting_is_redacted_from_the_logs_serve_writes() -> None:
    """`medialink serve` hands ``log_secrets()`` to the log filter: every secret setting
    is in it (each encryption key of the list, the URLs' passwords), and a new secret
    setting is caught here rather than logged."""
    import io  # noqa: PLC0415
    import logging  # noqa: PLC0415

    from pydantic import SecretStr  # noqa: PLC0415

    from bot.logs import build_handler  # noqa: PLC0415

    old_key, new_key = (
        "mDOJdh9XWb3MwHzD6N0DwqJcmyr1T7y6lSR2KqSfPWc=",
        ("0X6w3DzjY3wX6F8sC1Q2n6gWv0vUe0m7wAfGJt8m7bE="),
    )
    valid = Settings(
        slack_bot_token="xoxb-secret-bot-token",
        slack_signing_secret="signing-secret-0123456789",
        wix_api_key="IST.wix-api-key-0123456789",
        wix_site_id="site",
        database_url="postgresql://medialink:db-pass-0123456789@db:5432/medialink",
        medialink_encryption_key=f"{new_key},{old_key}",
        redis_url="redis://:redis-pass-0123456789@redis:6379/0",
    )
    # The rest, which no single valid configuration has together.
    settings = valid.model_copy(
        update={
            "slack_app_token": SecretStr("xapp-secret-app-token"),
            "slack_client_secret": SecretStr("client-secret-0123456789"),
            "slack_state_secret": SecretStr("state-secret-0123456789abcdefghij"),
            "wix_client_secret": SecretStr("wix-client-secret-0123456789"),
        }
    )
    secret_fields = [
        name for name in Settings.model_fields if isinstance(getattr(settings, name), SecretStr)
    ]
    assert len(secret_fields) == 10  # every one set above
    shown = [
        "signing-secret-0123456789",
        "client-secret-0123456789",
        "state-secret-0123456789abcdefghij",
        "wix-client-secret-0123456789",
        "db-pass-0123456789",
        new_key,
        old_key,
        "redis-pass-0123456789",
    ]
    output = io.StringIO()
    handler = build_handler(output, secrets=settings.log_secrets())
    logger = logging.getLogger("bot.test_config")
    logger.addHandler(handler)
    try:
        for value in shown:
            logger.warning("saw %s here", value)
    finally:
        logger.removeHandler(handler)
    written = output.getvalue()
    assert written.count("saw [redacted] here") == len(shown), written
    for value in shown:
        assert value not in written
