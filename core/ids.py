"""New random (version 4) UUIDs as canonical strings, the form every id takes in this service."""
import os

# The variant's two high bits are 10: the 17th hex digit is one of 8, 9, a, b.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def random_uuid():
    """Equal in distribution to str(uuid.uuid4()), at a third of its cost (two of these per POST)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
