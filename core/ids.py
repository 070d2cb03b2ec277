"""New random (version 4) UUIDs as canonical strings, the form every id takes in this service."""
import os
import re

# The hyphenated form, any case: the form ids take in URLs, bodies, tokens and the CLI's arguments.
CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The variant's two high bits are 10: the 17th hex digit is one of 8, 9, a, b.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
# Random bytes are read from the OS for this many ids at a time: one getrandom system call per
# id was two of the fourteen a POST cost.
BATCH = 256
# Hex digits of ids not handed out yet. list.pop is atomic, so threads never share one; a forked
# child starts empty, so parent and child never share one either.
_unused = []
os.register_at_fork(after_in_child=_unused.clear)


def _refill():
    block = os.urandom(16 * BATCH).hex()
    _unused.extend(block[i:i + 32] for i in range(0, len(block), 32))


def random_uuid():
    """Equal in distribution to str(uuid.uuid4()) (os.urandom's bytes), at a fraction of its cost."""
    while True:
        try:
            h = _unused.pop()
            break
        except IndexError:
            _refill()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
