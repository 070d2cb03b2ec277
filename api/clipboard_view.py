"""Combine what Redis knows (claims) with what PostgreSQL holds (applied revisions) for reads."""
from models import Clipboard, ClipboardImage, ClipboardState
from core import timefmt

PENDING = "pending"


def load_row(clipboard_id):
    """Return (row, image ids in order) from PostgreSQL, or (None, []) when there is no row."""
    row = Clipboard.get_or_none(Clipboard.id == clipboard_id)
    if row is None:
        return None, []
    image_ids = [
        str(image_id)
        for (image_id,) in ClipboardImage.select(ClipboardImage.image_id)
        .where(ClipboardImage.clipboard == clipboard_id)
        .order_by(ClipboardImage.position)
        .tuples()
    ]
    return row, image_ids


def visible(claim, row, organization_id):
    """Whether the caller's organization may see this clipboard (a live one of its own)."""
    if claim:
        return claim.get("org") == organization_id and claim.get("live") == "1"
    return row is not None and str(row.organization_id) == organization_id and row.state != ClipboardState.DELETED


def render(clipboard_id, claim, row, image_ids, zone_name):
    """The GET document: state is `pending` while the newest claimed revision is not applied."""
    claimed_revision = int(claim.get("rev", 0)) if claim else 0
    applied_revision = row.revision if row is not None else 0
    state = row.state if row is not None and applied_revision >= claimed_revision else PENDING
    current = row is not None and row.state != ClipboardState.DELETED
    if claim:
        created_at = timefmt.render_epoch_ms(int(claim["created"]), zone_name)
        user_id = claim.get("user") or None
        organization_id = claim["org"]
    else:
        created_at = timefmt.render(row.created_at, zone_name)
        user_id = str(row.user_id) if row.user_id else None
        organization_id = str(row.organization_id)
    document = {
        "id": clipboard_id,
        "user_id": user_id,
        "organization_id": organization_id,
        "created_at": created_at,
        "updated_at": timefmt.render(row.updated_at, zone_name) if current else created_at,
        "state": state,
        "revision": max(claimed_revision, applied_revision),
        "image_ids": image_ids if current else [],
        "rejected_image_ids": row.rejected_images if current else [],
    }
    if state == ClipboardState.FAILED:
        document["error"] = row.error
    return document
