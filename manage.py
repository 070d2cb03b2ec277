#!/usr/bin/env python
"""Administer the clipboard service: `python manage.py <command> [options]`.

Every command prints one JSON document on stdout and exits 0. Bad input prints
`{"error": "..."}` on stderr and exits 2; a missing or conflicting row, an unreachable database or
an unusable configuration exits 1. The database comes from core.settings (DATABASE_URL, else the
embedded development servers recorded under var/).
"""
import argparse
import json
import sys
from urllib.parse import urlsplit, urlunsplit

import peewee

from admin import commands
from core import settings as settings_module

EXIT_OK = 0
EXIT_FAILED = 1  # not found, conflict, database unreachable, configuration unusable
EXIT_USAGE = 2  # what argparse uses too
# Seconds to wait for PostgreSQL before saying it cannot be reached.
CONNECT_TIMEOUT_SECONDS = 5
DATABASE_SCHEMES = ("postgres", "postgresql")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one JSON line on stderr, like every other error."""

    def error(self, message):
        _fail(f"{self.prog}: {message}", EXIT_USAGE)


def _fail(message, code):
    sys.stderr.write(json.dumps({"error": message}) + "\n")
    sys.exit(code)


def _whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def build_parser():
    parser = Parser(prog="manage.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    sub.add_parser("migrate", help="apply pending database migrations")

    p = sub.add_parser("create-organization", help="create an organization (a tenant)")
    p.add_argument("--name", required=True)
    p.add_argument("--id", help="keep an existing UUID (default: a new one)")

    p = sub.add_parser("create-secret", help="create an organization's API secret")
    p.add_argument("--organization", required=True, metavar="ORG_ID")
    p.add_argument("--name")
    p.add_argument("--id", help="keep an existing UUID (default: a new one)")
    p.add_argument("--key", help="keep an existing key (default: 256 random bits)")

    p = sub.add_parser("revoke-secret", help="revoke a secret; its tokens stop working")
    p.add_argument("--id", required=True, metavar="SECRET_ID")

    p = sub.add_parser("create-user", help="create a user in an organization")
    p.add_argument("--organization", required=True, metavar="ORG_ID")
    p.add_argument("--email", required=True)
    p.add_argument("--id", help="keep an existing UUID (default: a new one)")
    p.add_argument("--name")

    p = sub.add_parser("add-image", help="register an image's metadata in an album")
    p.add_argument("--organization", required=True, metavar="ORG_ID")
    p.add_argument("--album", required=True, metavar="ALBUM_ID")
    p.add_argument("--id", help="keep an existing UUID (default: a new one)")
    p.add_argument("--filename")
    p.add_argument("--format", help="e.g. png")
    p.add_argument("--width", type=_whole_number, metavar="N")
    p.add_argument("--height", type=_whole_number, metavar="N")
    p.add_argument("--bytes", type=_whole_number, metavar="N")
    p.add_argument("--url")

    p = sub.add_parser("mint-token", help="sign a token for a secret or a user")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--secret-id", metavar="ID")
    who.add_argument("--user-id", metavar="ID")
    p.add_argument("--ability", action="append", default=[], metavar="ALBUM:ABILITY",
                   help=f"repeatable; abilities: {', '.join(commands.ABILITIES)}")
    p.add_argument("--ttl", type=_whole_number, metavar="SECONDS", help="add iat and exp=iat+SECONDS")
    return parser


def run(args, settings):
    """Run the parsed command against the bound models; return its JSON document."""
    zone = settings.time_zone
    if args.command == "create-organization":
        return commands.create_organization(args.name, id=args.id, zone_name=zone)
    if args.command == "create-secret":
        return commands.create_secret(args.organization, name=args.name, id=args.id, key=args.key)
    if args.command == "revoke-secret":
        return commands.revoke_secret(args.id, zone_name=zone)
    if args.command == "create-user":
        return commands.create_user(args.organization, args.email, id=args.id, name=args.name, zone_name=zone)
    if args.command == "add-image":
        return commands.add_image(
            args.organization, args.album, id=args.id, filename=args.filename, format=args.format,
            width=args.width, height=args.height, bytes=args.bytes, url=args.url, zone_name=zone,
        )
    if args.command == "mint-token":
        return commands.mint_token(
            settings.signing_key, secret_id=args.secret_id, user_id=args.user_id,
            abilities=args.ability, ttl=args.ttl,
        )
    raise AssertionError(f"unhandled command {args.command}")


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        settings = settings_module.load()
    except settings_module.ConfigurationError as error:
        _fail(f"configuration: {error}", EXIT_FAILED)

    from models.db import bind

    if urlsplit(settings.database_url).scheme not in DATABASE_SCHEMES:
        _fail(f"configuration: DATABASE_URL must be a postgresql:// URL, got {_safe(settings.database_url)!r}", EXIT_FAILED)
    db = bind(settings.database_url, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        if args.command == "migrate":
            document = commands.migrate(db)
        else:
            with db.connection_context():
                document = run(args, settings)
    except commands.CommandError as error:
        _fail(str(error), error.exit_code)
    except peewee.IntegrityError as error:
        if args.command != "migrate":
            raise  # the other commands turn their own conflicts into CommandErrors
        _fail(f"the data stops a migration, which was rolled back: {' '.join(str(error).split())}", EXIT_FAILED)
    except peewee.OperationalError as error:
        _fail(f"cannot use the database at {_safe(settings.database_url)}: {_first_line(error)}", EXIT_FAILED)
    except peewee.ProgrammingError as error:
        _fail(f"database error ({_first_line(error)}); has `python manage.py migrate` run?", EXIT_FAILED)
    finally:
        if not db.is_closed():
            db.close()
    sys.stdout.write(json.dumps(document) + "\n")
    return EXIT_OK


def _safe(url):
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


if __name__ == "__main__":
    sys.exit(main())
