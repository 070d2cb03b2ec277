"""POST /api/v1/clipboards: claim a clipboard revision in Redis and queue its store, at once."""
import time
import uuid

from api import errors, forms
from api.clipboard_ledger import LedgerUnavailable
from api.rendering import send_json
from core import timefmt

IMAGE_COPY = "image_copy"


class Clipboards:
    def __init__(self, ledger, settings, clock=time.time):
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    def on_post(self, req, resp):
        caller = req.context.caller
        albums = caller.albums_with(IMAGE_COPY)
        if not albums:
            raise errors.forbidden("The token grants image_copy on no album.")
        params = forms.read_params(req, self._settings.max_body_bytes)
        clipboard_id = forms.optional_uuid(params, "id") or str(uuid.uuid4())
        image_ids = forms.uuid_list(params, "image_ids", self._settings.max_clipboard_images)
        try:
            claim = self._ledger.store(
                clipboard_id,
                caller.organization_id,
                caller.user_id,
                image_ids,
                albums,
                int(self._clock() * 1000),
                req.context.request_id,
            )
        except LedgerUnavailable:
            raise errors.unavailable("The clipboard could not be queued; retry shortly.") from None
        if claim is None:
            raise errors.not_found("No such clipboard.")
        send_json(
            resp,
            {
                "id": clipboard_id,
                "user_id": claim.user_id,
                "organization_id": caller.organization_id,
                "created_at": timefmt.render_epoch_ms(claim.created_at_ms, self._settings.time_zone),
            },
        )
        resp.set_header("Location", f"/api/v1/clipboards/{clipboard_id}")
