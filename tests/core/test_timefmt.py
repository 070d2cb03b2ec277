"""core.timefmt renders the reference's format: milliseconds and a numeric offset."""
import datetime

from core import timefmt

SEED_INSTANT_MS = 1554745142815  # the seed's created_at, 2019-04-08T19:39:02.815+02:00


def test_renders_the_seeds_created_at_in_its_zone():
    assert timefmt.render_epoch_ms(SEED_INSTANT_MS, "Europe/Berlin") == "2019-04-08T19:39:02.815+02:00"


def test_utc_has_a_numeric_offset():
    assert timefmt.render_epoch_ms(SEED_INSTANT_MS) == "2019-04-08T17:39:02.815+00:00"


def test_naive_datetimes_are_taken_as_utc_and_none_stays_none():
    assert timefmt.render(datetime.datetime(2019, 4, 8, 17, 39, 2, 815000), "UTC") == "2019-04-08T17:39:02.815+00:00"
    assert timefmt.render(None) is None


def test_epoch_round_trip():
    assert timefmt.to_epoch_ms(timefmt.from_epoch_ms(SEED_INSTANT_MS)) == SEED_INSTANT_MS


def test_epoch_milliseconds_render_as_their_datetime_does_across_zones_and_dst_changes():
    # 2019-03-31 01:00 UTC: Berlin's clocks went from +01:00 to +02:00; 2019-10-27 01:00 UTC back.
    edges = [1553994000000, 1572138000000, SEED_INSTANT_MS, 0, 999, 1000, 4102444799999]
    instants = edges + [edge + delta for edge in edges for delta in (-1001, -1, 1, 1001, 3_600_000)]
    for zone_name in ("UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata"):
        for instant in instants:
            expected = timefmt.render(timefmt.from_epoch_ms(instant), zone_name)
            assert timefmt.render_epoch_ms(instant, zone_name) == expected, (instant, zone_name)
