"""Logging set-up: readable lines or JSON, request IDs, and a last line of defence
for secrets.

Two formats (``LOG_FORMAT``): readable lines (the default) or one JSON object per line
(python-json-logger) with ``time``, ``level``, ``logger``, ``message``, ``request_id``
(the Slack request being served, from ``request_id_var``) and, on Wix call lines,
``wix_request_id``. Both go through the same filter, below.

Our own code never logs tokens, response_urls or signed download URLs. The
handler's filter makes sure of it anyway, in case a library logs a request or a
message body (Bolt logs the body of a request that fails verification; slack_sdk
logs Web API bodies at DEBUG, which would include link buttons):

- below INFO only MediaLink's own loggers (``bot.*``) get through, whatever
  level a library's logger was given (Bolt copies the root level into loggers
  it creates later, so setting levels once is not enough);
- every message is cut to ``MAX_MESSAGE_CHARS``, at a point no secret spans;
- secrets are redacted in plain, URL-encoded (once or twice) and JSON-escaped
  form: Slack tokens, Wix API keys and OAuth tokens, JWTs, Authorization and
  ``token=``-style values, response_urls, signed links, and the configured
  secrets themselves.

Every pattern here is linear in its input: each starts at a literal marker and
either cannot fail once started or fails within a bounded number of characters,
so text built to make a regex backtrack (``http://http://…``) costs no more
than any other text of its length.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, Literal, TextIO
from urllib.parse import quote, quote_plus, unquote

from pydantic import SecretStr
from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
MAX_MESSAGE_CHARS = 8192

# A run of these never holds a secret: a cut just after one cannot split a secret.
_CUT_POINT = re.compile(r"""[\s"',&<>|(){}\[\]]|%2[026C]|%7[BD]""", re.IGNORECASE)

# "://" up to the next "://" or a character a URL does not contain. The body
# stops at every "://", so nested URLs are handled one by one.
_URL = re.compile(r"""://(?:(?!://)[^\s"'<>|\\^`{}])*""")
_HOST_END = re.compile(r"[/?#]")
_QUERY_START = re.compile(r"[?#]")
# Path segments after which a URL is a credential: Slack response_urls
# (hooks.slack.com/commands|actions|app/…), incoming webhooks (/services/…), and
# any other response endpoint (/response/…, proxies and test doubles).
_SECRET_SEGMENTS = frozenset({"commands", "actions", "app", "services", "response"})

# Between a key and its value: "key": "v", key=v, 'key': 'v', {\"key\": \"v\"}, key:+v.
_SEPARATOR = r"[\\\"'\s+]{0,8}[:=][\\\"'\s+]{0,8}"

_PLAIN_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A response_url without its scheme.
    (re.compile(r"(?i)(hooks\.slack(?:-gov)?\.com/[a-z]+/)[^\s\"'<>|\\]+"), r"\1" + REDACTED),
    # Slack tokens (bot, user, app-level, config, refresh).
    (re.compile(r"(xox[a-z]|xapp)-[A-Za-z0-9-]+"), r"\1-" + REDACTED),
    # Wix API keys, Wix OAuth access tokens, and JWTs in general (signed-link tokens).
    (re.compile(r"(?<![A-Za-z])(IST|OAUTH2)\.[A-Za-z0-9._~+/=-]+"), r"\1." + REDACTED),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_=-]*)*"), REDACTED),
    # Authorization headers, raw (Wix API keys) or with a scheme.
    (
        re.compile(
            r"(?i)(authorization" + _SEPARATOR + ")"
            r"(?:(?:bearer|basic|token)[\s+]{1,3})?[^\s\\\"',}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer)[\s+]{1,3}[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # An OAuth install's one-time code and state: in a redirect's query, in Bolt's dict
    # of that query ('code': ['…']) and in Bolt's warning about a refused code.
    (re.compile(r"([?&](?:code|state)=)[^\s&\"'#<>]+"), r"\1" + REDACTED),
    (re.compile(r"('(?:code|state)':\s{0,3}\[?\s{0,3}')[^']+"), r"\1" + REDACTED),
    (re.compile(r"(\bwith code:\s{0,3})\S+"), r"\1" + REDACTED),
    # key=value, key: value, "key": "value" for keys that name a credential.
    (
        re.compile(
            r"(?i)(?<![a-z0-9_])((?:access_|refresh_|id_)?token|client_secret|signing_secret"
            r"|secret|password|api_?key|signature|sig)"
            r"(" + _SEPARATOR + r")[^\s\"'&,;}<>|\\]+"
        ),
        r"\1\2" + REDACTED,
    ),
)

_JSON_ESCAPED_SLASH = re.compile(r"\\{1,8}/")


def _redact_url(match: re.Match[str]) -> str:
    url = match.group()
    body = url[3:]
    end = _HOST_END.search(body)
    host, rest = (body[: end.start()], body[end.start() :]) if end else (body, "")
    if "@" in host:  # user:password@host
        host = f"{REDACTED}@{host.rsplit('@', 1)[1]}"
    hostname = host.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    query_at = _QUERY_START.search(rest)
    path, query = (rest[: query_at.start()], rest[query_at.start() :]) if query_at else (rest, "")
    segments = path.split("/")
    wix_link = hostname == "wixmp.com" or hostname.endswith(".wixmp.com")
    last = len(segments) - 1
    for index, segment in enumerate(segments[:last]):
        name = segment.lower()
        if (name in _SECRET_SEGMENTS or (wix_link and name == "archive")) and (
            index + 1 < last or segments[last]
        ):
            # Keep the endpoint's kind, drop what identifies (and authorises) it.
            path, query = "/".join(segments[: index + 1]) + "/" + REDACTED, ""
            break
    if wix_link and query:
        # Signed Wix download links: the query string is the credential.
        query = query[0] + REDACTED
    return f"://{host}{path}{query}"


def _decode(text: str) -> str:
    """``text`` with URL-encoding (up to three layers) and JSON-escaped slashes undone."""
    for _ in range(3):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return _JSON_ESCAPED_SLASH.sub("/", text)


def _encoded_forms(secret: str) -> set[str]:
    once = {secret, quote(secret, safe=""), quote_plus(secret), secret.replace("/", "\\/")}
    return once | {quote(form, safe="") for form in once} | {quote_plus(f) for f in once}


class Redactor:
    """Redacts secrets from text; ``secrets`` are values to remove wherever they appear."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would redact ordinary words; real secrets are much longer.
        forms = {form for secret in secrets if len(secret) >= 8 for form in _encoded_forms(secret)}
        self._known = (
            re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)))
            if forms
            else None
        )

    def __call__(self, text: str) -> str:
        cleaned = self._plain(text)
        if "%" in cleaned or "\\" in cleaned:
            # Encoded secrets (a form body, JSON in a form field, JSON-escaped URLs)
            # are found in the decoded text; then the decoded text is what is logged.
            decoded = _decode(cleaned)
            redacted = self._plain(decoded)
            if redacted != decoded:
                return redacted
        return cleaned

    def _plain(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        text = _URL.sub(_redact_url, text)
        for pattern, replacement in _PLAIN_RULES:
            text = pattern.sub(replacement, text)
        return text


_default_redactor = Redactor()


def redact(text: str) -> str:
    """``text`` without credentials, in time linear in its length."""
    return _default_redactor(text)


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters (plus a note) where no secret spans.

    The cut is made after the last delimiter, so redaction still sees every
    secret whole; a partial secret (a prefix of a token) is never kept.
    """
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = 0
    for cut_point in _CUT_POINT.finditer(head):
        cut = cut_point.end()
    return f"{head[:cut]}… [{len(text) - cut} more characters not logged]"


_OWN_LOGGERS = ("bot", "__main__")
# httpx logs every request, URL and query string included, at INFO.
_QUIET_LIBRARIES = ("httpx", "httpcore")


def _floor(name: str) -> int:
    """The lowest level shown for a logger: only our own code logs below INFO."""
    top = name.split(".", 1)[0]
    if top in _OWN_LOGGERS:
        return logging.NOTSET
    if top in _QUIET_LIBRARIES:
        return logging.WARNING
    return logging.INFO


# The Slack request being served (``bot.slack.middleware`` sets it); tasks copy it, so
# a request's listener work and Wix calls log under the same ID as its ack.
request_id_var: ContextVar[str | None] = ContextVar("medialink_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Puts the current request's ID on every record (``record.request_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactingFilter(logging.Filter):
    """Drops library chatter below INFO and rewrites each message without secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < _floor(record.name):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a bad format call: log what was given rather than raise
            message = f"{record.msg} {record.args}"
        cleaned = message
        if record.exc_info and record.exc_info[1] is not None:
            # Keep the exception type and message, drop the traceback text,
            # which could carry request bodies or headers.
            error = record.exc_info[1]
            cleaned = f"{cleaned} ({type(error).__name__}: {error})"
            record.exc_info = None
            record.exc_text = None
        cleaned = self._redact(truncate(cleaned))
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        wix_request_id = getattr(record, "wix_request_id", None)
        if wix_request_id is not None:  # a header Wix sent: bounded and redacted too
            record.wix_request_id = self._redact(truncate(str(wix_request_id), 128))
        return True


LogFormat = Literal["text", "json"]
# The only fields a JSON line carries: extras a library adds never reach the output.
JSON_FIELDS = ("time", "level", "logger", "message", "request_id", "wix_request_id")


class MediaLinkJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, limited to ``JSON_FIELDS``."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message", "request_id"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: log_data[key] for key in JSON_FIELDS if key in log_data}


def build_handler(
    stream: TextIO,
    *,
    secrets: Iterable[SecretStr | str | None] = (),
    log_format: LogFormat = "text",
) -> logging.Handler:
    """A handler writing ``log_format`` to ``stream`` through MediaLink's filters."""
    values = [s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets if s]
    handler = logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    formatter = MediaLinkJsonFormatter() if log_format == "json" else logging.Formatter(_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter(values))
    handler.addFilter(RequestIdFilter())
    return handler


HANDLER_NAME = "medialink"  # the name of the handler configure_logging installs
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    level: str = "INFO",
    *,
    stream: TextIO | None = None,
    secrets: Iterable[SecretStr | str | None] = (),
    log_format: LogFormat = "text",
) -> None:
    """Log ``level`` and above from MediaLink, INFO and above from libraries, to
    ``stream`` (stderr by default) as ``log_format``; ``secrets`` are redacted wherever
    they appear."""
    handler = build_handler(
        sys.stderr if stream is None else stream, secrets=secrets, log_format=log_format
    )
    root = logging.getLogger()
    # Replace our own handler if configured before; leave others (a host's, pytest's) alone.
    for existing in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(existing)
    root.addHandler(handler)
    wanted = logging.getLevelName(level)
    # Bolt gives the loggers it creates the root logger's level: keep the root at
    # INFO or above so those never even make DEBUG records (which hold bodies).
    root.setLevel(max(logging.INFO, wanted))
    logging.getLogger("bot").setLevel(wanted)
    logging.getLogger("__main__").setLevel(wanted)
    for name in ("slack_sdk", "slack_bolt", "aiohttp", "websockets"):
        logging.getLogger(name).setLevel(max(logging.INFO, wanted))
    # Loggers Bolt made before this call keep the root's level of that moment, which may
    # be DEBUG; Bolt's app logger also logs the Web API client's calls (docs/slack.md,
    # Bolt's client), bodies included.
    for name, made in list(logging.Logger.manager.loggerDict.items()):
        if not (name.startswith("slack_bolt.") and isinstance(made, logging.Logger)):
            continue
        if made.level != logging.NOTSET:
            made.setLevel(max(logging.INFO, wanted))
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, wanted))
