"""What an album id may be: 1-255 letters, digits, '-', '_' or '.'."""
import re

ALBUM_ID = re.compile(r"[A-Za-z0-9_.-]{1,255}")
DESCRIPTION = "1-255 letters, digits, '-', '_' or '.'"


def is_album_id(value):
    return isinstance(value, str) and ALBUM_ID.fullmatch(value) is not None
