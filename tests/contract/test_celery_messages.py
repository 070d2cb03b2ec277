"""The API's hand-built task messages are consumed by an unmodified Celery worker, intact."""
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from api.clipboard_ledger import ClipboardLedger, PasteOutcome
from core import messages
from tests.support.processes import ROOT, stop_process
from tests.support.waiting import wait_for

ORG = "4d69a649-135c-44c7-a918-31dc119513cb"
USER = "8a4c3d0e-0000-4000-8000-000000000001"


@pytest.fixture
def plain_worker(redis_url, tmp_path):
    out = tmp_path / "received.jsonl"
    log = open(tmp_path / "plain-worker.log", "wb")
    env = {**os.environ, "REDIS_URL": redis_url, "CONTRACT_OUT": str(out), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.contract.plain_worker", "worker", "-l", "INFO", "-c", "1",
         "--without-mingle", "--without-gossip", "-n", f"plain-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )

    def received(count):
        def read():
            if not out.exists():
                return None
            lines = out.read_text().splitlines()
            return [json.loads(line) for line in lines] if len(lines) >= count else None

        if process.poll() is not None:
            raise AssertionError((tmp_path / "plain-worker.log").read_text())
        return wait_for(read, 30, message=f"{count} messages at the plain worker")

    yield received
    stop_process(process, log)


def test_a_plain_celery_worker_receives_each_task_with_its_payload(plain_worker, redis_client):
    ledger = ClipboardLedger(redis_client)
    clipboard_id = str(uuid.uuid4())
    images = [str(uuid.uuid4()) for _ in range(3)]
    now_ms = int(time.time() * 1000)
    claim = ledger.store(clipboard_id, ORG, USER, images, ["00100000123BB236", "a.b-c_d"], now_ms, "req-1")
    outcome, job_id = ledger.paste(clipboard_id, ORG, None, "album", "fingerprint", None, now_ms, "req-2")
    assert outcome == PasteOutcome.QUEUED
    ledger.delete(clipboard_id, ORG, "req-3")

    store, paste, delete = plain_worker(3)
    assert store == {
        "task": messages.STORE_CLIPBOARD,
        "args": [],
        "kwargs": messages.StoreClipboard(
            clipboard_id, ORG, USER, images, ["00100000123BB236", "a.b-c_d"], claim.revision, now_ms, "req-1"
        ).to_dict(),
    }
    assert paste["task"] == messages.PASTE_CLIPBOARD
    assert messages.PasteClipboard.from_dict(paste["kwargs"]) == messages.PasteClipboard(
        job_id, clipboard_id, ORG, None, "album", 1, now_ms, "req-2"
    )
    assert delete["task"] == messages.DELETE_CLIPBOARD
    assert delete["kwargs"] == messages.DeleteClipboard(clipboard_id, ORG, 2, "req-3").to_dict()
