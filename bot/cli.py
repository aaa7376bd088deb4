"""The ``medialink`` command: parse, link, check, serve, audit.

Exit codes: 0 all well, 1 some file or check failed, 2 bad input or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bot.audit import AuditEvent, AuditQuery, AuditUnavailable, Entry
from bot.audit.events import Requester, link_events
from bot.audit.export import write_csv, write_json, write_table
from bot.audit.store import MAX_QUERY_LIMIT
from bot.audit.urls import database_password, shown_database_url
from bot.config import Settings, SettingsError, load_settings
from bot.durations import parse_duration
from bot.logs import configure_logging
from bot.policy import build_policy
from bot.preflight import StartUpRefused, check_all, classify_wix_error, exit_code
from bot.services import build_audit_trail, build_services
from bot.wix.errors import BadRequestError, NotFoundError, WixError
from bot.wix.links import FileLinks, LinkOptions, LinkOptionsError
from bot.wix.refs import ParseResult, parse_media_refs

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input on the command line; ``str()`` says what to do."""


def _duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _assets_arg(text: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    if not keys:
        raise argparse.ArgumentTypeError("name at least one rendition, for example src,720p.mp4")
    return keys


SINCE_HELP = "a duration such as 30m, 12h or 7d (at most 3650d)"
MAX_AUDIT_USERS = 20
_SLACK_ID = re.compile(r"[A-Z0-9]{1,64}")
# A Slack mention as copied from a message: <@U123> or <@U123|name>.
_MENTION = re.compile(r"<@([A-Za-z0-9]+)(?:\|[^>]*)?>")


def _since_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a period; use {SINCE_HELP}"
        ) from None


def _user_arg(text: str) -> str:
    mention = _MENTION.fullmatch(text.strip())
    user = (mention.group(1) if mention else text.strip()).upper()
    if not _SLACK_ID.fullmatch(user):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a Slack user ID; use an ID such as U012AB3CD "
            "(a member's profile: ⋮ → Copy member ID)"
        )
    return user


def _limit_arg(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text[:6]) <= MAX_QUERY_LIMIT:
        raise argparse.ArgumentTypeError(f"use a whole number from 1 to {MAX_QUERY_LIMIT}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medialink",
        description="Expiring download links for Wix media files.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    parse = commands.add_parser(
        "parse",
        help="list the Wix media references in text (offline, no credentials)",
        description="List the Wix media references in TEXT, or in standard input.",
    )
    parse.add_argument("text", nargs="*", metavar="TEXT")
    parse.add_argument("--json", action="store_true", help="print JSON instead of a table")

    link = commands.add_parser(
        "link",
        help="make expiring download links for Wix media URLs",
        description="Make expiring download links for the Wix media in URL... (or stdin).",
    )
    link.add_argument("urls", nargs="*", metavar="URL")
    link.add_argument(
        "--expires", type=_duration_arg, metavar="DURATION", help="how long links last (e.g. 2h)"
    )
    link.add_argument(
        "--assets",
        type=_assets_arg,
        default=(),
        metavar="KEYS",
        help="comma-separated renditions (default: src, the original)",
    )
    link.add_argument("--name", metavar="FILENAME", help="file name for the download")
    link.add_argument("--inline", action="store_true", help="open in the browser, not download")
    link.add_argument("--redirect", metavar="URL", help="https page an expired link shows")
    link.add_argument("--json", action="store_true", help="print JSON instead of text")

    commands.add_parser(
        "check",
        help="check the settings and reach Wix and Slack",
        description=(
            "Check every setting: validate them, and ask Wix and Slack whether they accept "
            "the credentials. Exit code 0 all well, 1 a check failed, 2 bad settings."
        ),
    )
    commands.add_parser("serve", help="run the Slack app")

    audit = commands.add_parser(
        "audit",
        help="export the audit record: who made which link, and what was refused",
        description=(
            "Print the audit record (DATABASE_URL), newest first: every link made and "
            "every request refused. Filters combine."
        ),
    )
    audit.add_argument(
        "--since", type=_since_arg, metavar="DURATION", help="only this recent, e.g. 7d"
    )
    audit.add_argument(
        "--user",
        type=_user_arg,
        action="append",
        default=[],
        metavar="USER_ID",
        help="only this person's (repeat for several)",
    )
    audit.add_argument(
        "--team",
        metavar="TEAM_ID",
        help="only this workspace's (an org-wide install: its org ID, E…)",
    )
    audit.add_argument("--file", metavar="FILE", help="only links to this file (its Wix ID or URL)")
    audit.add_argument(
        "--outcome", metavar="OUTCOME", help="ok, refused, or a Wix error code (NOT_FOUND)"
    )
    audit.add_argument(
        "--limit",
        type=_limit_arg,
        default=MAX_QUERY_LIMIT,
        metavar="N",
        help=f"at most N events (1-{MAX_QUERY_LIMIT}, the default)",
    )
    output = audit.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--csv", action="store_true", help="print CSV")
    return parser


def _read_text(args: Sequence[str], stdin: TextIO) -> str:
    if args:
        return "\n".join(args)
    if stdin.isatty():
        raise UsageError("give the text as arguments, or pipe it in on standard input")
    return stdin.read()


# parse ------------------------------------------------------------------------------------


def parse_to_json(result: ParseResult) -> dict[str, Any]:
    return {
        "refs": [
            {
                "file_id": ref.file_id,
                "media_type": str(ref.media_type),
                "filename": ref.filename,
                "source": ref.source,
            }
            for ref in result.refs
        ],
        "rejected": [{"text": item.text, "reason": item.reason} for item in result.rejected],
    }


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        out.write("\n")


def run_parse(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    result = parse_media_refs(_read_text(args.text, stdin))
    if args.json:
        json.dump(parse_to_json(result), out, indent=2)
        out.write("\n")
        return EXIT_OK
    if result.refs:
        rows = [["FILE ID", "TYPE", "FILENAME", "SOURCE"]]
        rows += [
            [ref.file_id, str(ref.media_type), ref.filename or "-", _short(ref.source, 60)]
            for ref in result.refs
        ]
        _table(rows, out)
    else:
        out.write("No Wix media references found.\n")
    for item in result.rejected:
        out.write(f"skipped {_short(item.text, 60)}: {item.reason}\n")
    return EXIT_OK


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# link -------------------------------------------------------------------------------------


def describe_error(error: WixError, settings: Settings) -> str:
    """A sentence for a person; never a status dump, never a secret."""
    if isinstance(error, NotFoundError):
        return "not found in this site's Media Manager"
    if isinstance(error, BadRequestError):
        return f"Wix refused the request: {error.message or 'bad request'}"
    return classify_wix_error(error, settings).message


def links_to_json(results: Sequence[FileLinks], settings: Settings) -> dict[str, Any]:
    return {
        "files": [
            {
                "file_id": result.file_id,
                "links": [{"asset_key": link.asset_key, "url": link.url} for link in result.links],
                "expires_at": result.expires_at.isoformat() if result.expires_at else None,
                "error": describe_error(result.error, settings) if result.error else None,
            }
            for result in results
        ]
    }


def _print_links(results: Sequence[FileLinks], settings: Settings, out: TextIO) -> None:
    for result in results:
        out.write(f"{result.display_name} ({result.file_id})\n")
        if result.error is not None:
            out.write(f"  error: {describe_error(result.error, settings)}\n")
        for key in result.invalid_asset_keys:
            out.write(f"  rendition {key!r} does not exist for this file\n")
        for link in result.links:
            out.write(f"  {link.asset_key}: {link.url}\n")
        if result.expires_at is not None and result.links:
            out.write(f"  expires {result.expires_at:%Y-%m-%d %H:%M} UTC\n")


async def _link(settings: Settings, args: argparse.Namespace, text: str, out: TextIO) -> int:
    parsed = parse_media_refs(text, max_refs=settings.medialink_max_refs)
    for item in parsed.rejected:
        sys.stderr.write(f"skipped {_short(item.text, 60)}: {item.reason}\n")
    if not parsed.refs:
        raise UsageError("no Wix media URL or file ID found; try `medialink parse` to see why")
    options = LinkOptions(
        expires_in=args.expires,
        asset_keys=args.assets,
        redirect_url=args.redirect,
        download_file_name=args.name,
        inline=args.inline,
    )
    services = build_services(settings)
    try:
        results = await services.links.generate(parsed.refs, options)
        # Recorded like Slack's links (entry "cli", no Slack user); aclose() writes them.
        services.audit.record(
            link_events(Requester(entry=Entry.CLI), results, asked_keys=options.asset_keys)
        )
    finally:
        await services.aclose()
    if args.json:
        json.dump(links_to_json(results, settings), out, indent=2)
        out.write("\n")
    else:
        _print_links(results, settings, out)
    return EXIT_OK if all(result.ok for result in results) else EXIT_FAILED


def run_link(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    text = _read_text(args.urls, stdin)
    if args.redirect is not None and not args.redirect.lower().startswith("https://"):
        raise UsageError("--redirect must be an https:// URL")
    settings = load_settings()
    settings.wix_credentials()
    return asyncio.run(_link(settings, args, text, out))


# check ------------------------------------------------------------------------------------


def run_check(out: TextIO) -> int:
    """One line per setting, ``ok`` or ``FAIL`` and what to fix; checks all it can."""
    settings = load_settings()
    results = asyncio.run(check_all(settings))
    for result in results:
        out.write(f"{'ok  ' if result.ok else 'FAIL'} {result.message}\n")
    out.write("Access policy (read at start):\n")
    for line in build_policy(settings).describe():
        out.write(f"     {line}\n")
    return exit_code(results)


# audit ------------------------------------------------------------------------------------


def _file_id(text: str) -> str:
    if "://" not in text:
        file_id = text.strip()
        if not file_id or len(file_id) > 256:
            raise UsageError("--file takes a Wix file ID or a Wix media URL")
        return file_id
    parsed = parse_media_refs(text, max_refs=1)
    if not parsed.refs:
        raise UsageError("--file: no Wix file found in that URL; try `medialink parse` to see why")
    return parsed.refs[0].file_id


async def _audit_events(settings: Settings, args: argparse.Namespace) -> list[AuditEvent]:
    since = datetime.now(UTC) - args.since if args.since is not None else None
    file_id = _file_id(args.file) if args.file is not None else None
    base = AuditQuery(
        tenant_id=args.team, file_id=file_id, outcome=args.outcome, since=since, limit=args.limit
    )
    users = list(dict.fromkeys(args.user))[:MAX_AUDIT_USERS] or [None]
    trail = build_audit_trail(settings)
    try:
        events: list[AuditEvent] = []
        for user in users:
            events.extend(await trail.query(dataclasses.replace(base, user_id=user)))
    finally:
        await trail.aclose()
    events.sort(key=lambda event: event.at, reverse=True)
    return events[: args.limit]


def run_audit(args: argparse.Namespace, out: TextIO) -> int:
    settings = load_settings()
    try:
        events = asyncio.run(_audit_events(settings, args))
    except AuditUnavailable as error:
        shown = shown_database_url(settings.database_url.get_secret_value())
        sys.stderr.write(f"medialink audit: {error} ({shown}); check DATABASE_URL\n")
        return EXIT_FAILED
    if args.json:
        write_json(events, out)
    elif args.csv:
        write_csv(events, out)
    else:
        write_table(events, out)
    return EXIT_OK


# serve ------------------------------------------------------------------------------------


def run_serve() -> int:
    settings = load_settings()
    settings.wix_credentials()
    settings.require_slack()
    configure_logging(
        settings.log_level,
        log_format=settings.log_format,
        secrets=(
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.slack_client_secret,
            settings.slack_state_secret,
            settings.wix_api_key,
            settings.wix_client_secret,
            database_password(settings),
        ),
    )
    from bot.run import serve  # noqa: PLC0415 - the Slack stack loads only for `serve`

    asyncio.run(serve(settings))
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    stdin = stdin or sys.stdin
    out = sys.stdout
    if args.command != "serve":
        # `check` reports every failure itself; the Wix client's warnings would repeat them.
        configure_logging("ERROR" if args.command == "check" else "WARNING")
    try:
        if args.command == "parse":
            return run_parse(args, stdin, out)
        if args.command == "link":
            return run_link(args, stdin, out)
        if args.command == "check":
            return run_check(out)
        if args.command == "audit":
            return run_audit(args, out)
        return run_serve()
    except SettingsError as error:
        sys.stderr.write(f"{error}\nSee .env.example for every setting.\n")
        return EXIT_USAGE
    except StartUpRefused as refused:
        sys.stderr.write(f"{refused}\n")
        return EXIT_FAILED if refused.retry_later else EXIT_USAGE
    except (UsageError, LinkOptionsError) as error:
        sys.stderr.write(f"medialink {args.command}: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
