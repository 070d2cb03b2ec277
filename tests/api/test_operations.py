"""Operators' endpoints: /healthz, /readyz and /metrics."""
import redis as redis_module

from api.clipboard_ledger import ClipboardLedger


def test_readyz_reports_each_dependency(make_client, private_redis):
    response = make_client(redis_url=private_redis.url).simulate_get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"redis": "ok", "postgresql": "ok", "redis_persistence": "ok"}


def test_readyz_names_persistence_that_is_not_as_prescribed_but_stays_ready(make_client, private_redis):
    redis_module.Redis.from_url(private_redis.url).config_set("appendfsync", "everysec")
    response = make_client(redis_url=private_redis.url).simulate_get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["redis_persistence"] == "appendfsync is 'everysec', must be 'always'"


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
    lines = response.text.splitlines()
    assert "clipboard_redis_up 0" in lines
    assert not any(line.startswith("clipboard_redis_durable") for line in lines)


def test_metrics_say_whether_redis_is_durable(make_client, private_redis):
    client = make_client(redis_url=private_redis.url)
    assert "clipboard_redis_durable 1" in client.simulate_get("/metrics").text.splitlines()
    redis_module.Redis.from_url(private_redis.url).config_set("appendonly", "no")
    assert "clipboard_redis_durable 0" in client.simulate_get("/metrics").text.splitlines()
