"""Clipboards: POST claims a revision in Redis and queues its store at once; GET and DELETE."""
import time

import falcon

from api import clipboard_view, database_access, errors, forms
from api.clipboard_ledger import LedgerUnavailable
from api.rendering import send_json
from core import timefmt
from core.ids import random_uuid

IMAGE_COPY = "image_copy"


def read_clipboard_request(req, caller, settings):
    """Check the POST's ability and body; return (image_copy albums, clipboard id, image ids)."""
    albums = caller.albums_with(IMAGE_COPY)
    if not albums:
        raise errors.forbidden("The token grants image_copy on no album.")
    params = forms.read_params(req, settings.max_body_bytes)
    clipboard_id = forms.optional_uuid(params, "id") or random_uuid()
    image_ids = forms.uuid_list(params, "image_ids", settings.max_clipboard_images)
    return albums, clipboard_id, image_ids


class Clipboards:
    def __init__(self, ledger, settings, clock=time.time):
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    def on_post(self, req, resp):
        caller = req.context.caller
        albums, clipboard_id, image_ids = read_clipboard_request(req, caller, self._settings)
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


class Clipboard:
    """GET and DELETE /api/v1/clipboards/{clipboard_id}, for any token of the owning organization."""

    def __init__(self, ledger, settings):
        self._ledger = ledger
        self._settings = settings

    def on_get(self, req, resp, clipboard_id):
        clipboard_id = forms.path_uuid(clipboard_id, "clipboard")
        organization_id = req.context.caller.organization_id
        try:
            claim = self._ledger.lookup(clipboard_id)
        except LedgerUnavailable:
            raise errors.unavailable("Clipboard state cannot be read right now.") from None
        if claim and claim.get("org") != organization_id:
            raise errors.not_found("No such clipboard.")
        with database_access.connection("Clipboard contents"):
            row, image_ids = clipboard_view.load_row(clipboard_id)
        if not clipboard_view.visible(claim, row, organization_id):
            raise errors.not_found("No such clipboard.")
        send_json(resp, clipboard_view.render(clipboard_id, claim, row, image_ids, self._settings.time_zone))

    def on_delete(self, req, resp, clipboard_id):
        clipboard_id = forms.path_uuid(clipboard_id, "clipboard")
        try:
            revision = self._ledger.delete(clipboard_id, req.context.caller.organization_id, req.context.request_id)
        except LedgerUnavailable:
            raise errors.unavailable("The delete could not be queued; retry shortly.") from None
        if revision is None:
            raise errors.not_found("No such clipboard.")
        resp.status = falcon.HTTP_204
