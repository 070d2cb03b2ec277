"""Operators' endpoints: /healthz, /readyz and /metrics."""
from api.clipboard_ledger import ClipboardLedger


def test_readyz_reports_each_dependency(client):
    response = client.simulate_get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"redis": "ok", "postgresql": "ok"}


def test_readyz_is_503_without_redis(make_client):
    response = make_client(redis_url="redis://127.0.0.1:1/0").simulate_get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")


def test_metrics_show_the_queue_depth(client, redis_client, tenant):
    ledger = ClipboardLedger(redis_client)
    for n in range(3):
        ledger.store(f"00000000-0000-4000-8000-00000000000{n}", tenant.id, None, [], ["A"], 1, "r")
    response = client.simulate_get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "clipboard_queue_depth 3" in lines
    assert "clipboard_unacked_messages 0" in lines
    assert "clipboard_redis_up 1" in lines


def test_metrics_say_when_redis_is_down(make_client):
    response = make_client(redis_url="redis://127.0.0.1:1/0").simulate_get("/metrics")
    assert response.status_code == 200
    assert "clipboard_redis_up 0" in response.text.splitlines()
