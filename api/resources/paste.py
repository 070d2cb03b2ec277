"""POST /api/v1/clipboards/{id}/paste: queue an asynchronous paste job into an album, at once."""
import hashlib
import time

import falcon

from api import errors, forms
from api.clipboard_ledger import LedgerUnavailable, PasteOutcome
from api.rendering import send_json
from core import albums, timefmt

PASTE = "paste"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class Paste:
    def __init__(self, ledger, jobs, settings, clock=time.time):
        self._ledger = ledger
        self._jobs = jobs
        self._settings = settings
        self._clock = clock

    def on_post(self, req, resp, clipboard_id):
        caller = req.context.caller
        clipboard_id = forms.path_uuid(clipboard_id, "clipboard")
        params = forms.read_params(req, self._settings.max_body_bytes)
        album_id = forms.required_string(params, "album_id", albums.ALBUM_ID, albums.DESCRIPTION)
        if not caller.may(PASTE, album_id):
            raise errors.forbidden(f"The token does not grant paste on album {album_id}.")
        idempotency = req.get_header("Idempotency-Key")
        if idempotency is not None and not 0 < len(idempotency) <= MAX_IDEMPOTENCY_KEY_LENGTH:
            raise errors.invalid("Idempotency-Key", f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters.")
        fingerprint = hashlib.sha256(f"{clipboard_id}\n{album_id}".encode()).hexdigest()
        now_ms = int(self._clock() * 1000)
        try:
            outcome, job_id = self._ledger.paste(
                clipboard_id, caller.organization_id, caller.user_id, album_id, fingerprint, idempotency,
                now_ms, req.context.request_id,
            )
        except LedgerUnavailable:
            raise errors.unavailable("The paste could not be queued; retry shortly.") from None
        if outcome == PasteOutcome.NO_CLIPBOARD:
            raise errors.not_found("No such clipboard.")
        if outcome == PasteOutcome.KEY_REUSED:
            raise errors.invalid("Idempotency-Key", "This Idempotency-Key was used with another request body.")
        if outcome == PasteOutcome.REPLAYED:
            document = self._jobs.read(job_id, caller.organization_id)
        else:
            document = {
                "id": job_id,
                "kind": "paste",
                "state": "queued",
                "created_at": timefmt.render_epoch_ms(now_ms, self._settings.time_zone),
                "started_at": None,
                "finished_at": None,
                "result": None,
                "error": None,
            }
        send_json(resp, document, falcon.HTTP_202)
        resp.set_header("Location", f"/api/v1/jobs/{job_id}")
