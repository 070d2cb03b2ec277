"""GET /api/v1/jobs/{job_id}[?wait=N]: a job of the caller's organization, optionally long-polled."""
import time

from api import database_access, errors, forms, job_view
from api.clipboard_ledger import LedgerUnavailable
from api.rendering import send_json

MAX_WAIT_SECONDS = 30
POLL_INTERVAL_SECONDS = 0.1


class JobItem:
    def __init__(self, ledger, settings, clock=time.monotonic, sleep=time.sleep):
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        self._sleep = sleep

    def on_get(self, req, resp, job_id):
        job_id = forms.path_uuid(job_id, "job")
        wait = forms.optional_count(req.params, "wait", MAX_WAIT_SECONDS) or 0
        deadline = self._clock() + wait
        organization_id = req.context.caller.organization_id
        while True:
            document = self.read(job_id, organization_id)
            if document is None:
                raise errors.not_found("No such job.")
            if document["state"] in job_view.TERMINAL_STATES or self._clock() >= deadline:
                break
            self._sleep(POLL_INTERVAL_SECONDS)
        send_json(resp, document)

    def read(self, job_id, organization_id):
        with database_access.connection("Job state"):
            return job_view.load(job_id, organization_id, lambda: self._stub(job_id), self._settings.time_zone)

    def _stub(self, job_id):
        try:
            return self._ledger.job(job_id)
        except LedgerUnavailable:
            return {}
