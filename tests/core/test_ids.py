import uuid

from core.ids import random_uuid


def test_random_uuids_are_canonical_version_4_rfc_4122_uuids():
    for _ in range(2000):
        text = random_uuid()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_random_uuids_do_not_repeat_and_use_every_variant_digit():
    made = [random_uuid() for _ in range(4000)]
    assert len(set(made)) == len(made)
    assert {text[19] for text in made} == set("89ab")
