import os
import threading
import uuid

from core import ids
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


def test_a_forked_child_does_not_hand_out_the_parents_unused_ids():
    random_uuid()  # the parent now holds unused ids
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.write(write_end, "\n".join(random_uuid() for _ in range(ids.BATCH)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child = set(pipe.read().split("\n"))
    os.waitpid(pid, 0)
    parent = {random_uuid() for _ in range(ids.BATCH)}
    assert len(child) == ids.BATCH
    assert not child & parent


def test_threads_never_share_an_id():
    made = []

    def make():
        made.extend(random_uuid() for _ in range(3 * ids.BATCH))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == len(made) == 8 * 3 * ids.BATCH
