"""Build StoreClipboard/DeleteClipboard messages for worker tests."""
import time
import uuid

from core.messages import DeleteClipboard, StoreClipboard

ALBUM = "00100000123BB236"
OTHER_ALBUM = "00100000123BB999"


def now_ms():
    return int(time.time() * 1000)


def store_message(tenant, clipboard_id=None, image_ids=(), albums=(ALBUM,), revision=1, created_at_ms=None,
                  user_id=None):
    return StoreClipboard(
        clipboard_id=clipboard_id or str(uuid.uuid4()),
        organization_id=tenant.id,
        user_id=user_id,
        image_ids=[str(image_id) for image_id in image_ids],
        albums=list(albums),
        revision=revision,
        created_at_ms=created_at_ms if created_at_ms is not None else now_ms(),
        request_id=str(uuid.uuid4()),
    )


def delete_message(tenant, clipboard_id, revision):
    return DeleteClipboard(
        clipboard_id=clipboard_id, organization_id=tenant.id, revision=revision, request_id=str(uuid.uuid4())
    )


def paste_message(tenant, clipboard_id, album_id=OTHER_ALBUM, min_revision=1, created_at_ms=None, job_id=None):
    from core.messages import PasteClipboard

    return PasteClipboard(
        job_id=job_id or str(uuid.uuid4()),
        clipboard_id=clipboard_id,
        organization_id=tenant.id,
        user_id=None,
        album_id=album_id,
        min_revision=min_revision,
        created_at_ms=created_at_ms if created_at_ms is not None else now_ms(),
        request_id=str(uuid.uuid4()),
    )
