"""bench.api's combination of interleaved rounds into rows and per-round ratios (pure logic)."""
from bench.api import combine_rounds, round_ratios


def sample(app, number, requests, seconds, p99, connections=8, cpu_web=None):
    result = {"round": number, "app": app, "connections": connections, "requests": requests,
              "seconds": seconds, "rps": requests / seconds, "p50_ms": p99 / 4, "p99_ms": p99, "max_ms": p99 * 2}
    if cpu_web is not None:
        result.update(cpu_web_us=cpu_web, cpu_redis_us=0.0, cpu_load_us=10.0, cpu_total_us=cpu_web + 10.0)
    return result


def test_a_row_is_all_requests_over_all_seconds_not_a_mean_of_rates():
    rows = combine_rounds([sample("api", 1, 1000, 1.0, 4.0), sample("api", 2, 3000, 2.0, 6.0)])
    assert rows == [{
        "app": "api", "connections": 8, "rounds": 2, "requests": 4000, "seconds": 3.0,
        "rps": 1333.3, "p50_ms": 1.25, "p99_ms": 5.0, "max_ms": 12.0,
    }]


def test_rows_keep_first_seen_order_and_split_by_concurrency():
    samples = [sample("ceiling", 1, 10, 1.0, 1.0), sample("api", 1, 5, 1.0, 2.0),
               sample("ceiling", 1, 10, 1.0, 1.0, connections=64), sample("api", 2, 5, 1.0, 2.0),
               sample("ceiling", 2, 10, 1.0, 1.0)]
    assert [(r["app"], r["connections"], r["rounds"]) for r in combine_rounds(samples)] == [
        ("ceiling", 8, 2), ("api", 8, 2), ("ceiling", 64, 1)]


def test_cpu_per_request_is_weighted_by_requests():
    rows = combine_rounds([sample("api", 1, 100, 1.0, 1.0, cpu_web=400.0), sample("api", 2, 300, 1.0, 1.0, cpu_web=200.0)])
    assert rows[0]["cpu_web_us"] == 250.0
    assert rows[0]["cpu_total_us"] == 260.0


def test_cpu_columns_are_left_out_when_a_round_lacks_them():
    rows = combine_rounds([sample("api", 1, 100, 1.0, 1.0, cpu_web=400.0), sample("api", 2, 300, 1.0, 1.0)])
    assert "cpu_web_us" not in rows[0]


def test_round_ratios_pair_each_round_and_skip_incomplete_ones():
    samples = [sample("ceiling", 1, 1000, 1.0, 1.0), sample("api", 1, 500, 1.0, 1.0),
               sample("ceiling", 2, 800, 1.0, 1.0), sample("api", 2, 480, 1.0, 1.0),
               sample("ceiling", 3, 900, 1.0, 1.0),
               sample("api", 1, 1, 1.0, 1.0, connections=64)]
    assert round_ratios(samples, "api", "ceiling", 8) == [0.5, 0.6]
    assert round_ratios(samples, "api", "ceiling", 64) == []
