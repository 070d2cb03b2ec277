"""The form-body splitter must read every body exactly as urllib's parse_qsl does."""
import random
from urllib.parse import parse_qsl

import pytest

from api.forms import _form_params, _pairs

BODIES = [
    "",
    "id=4d595b76-a3a8-437a-95ca-6ebc1a244d69&image_ids[]=a&image_ids[]=b",
    "image_ids%5B%5D=a&image_ids%5B%5D=b",
    "a=1&&b=2&",
    "flag&other=&=value",
    "name=J%C3%BCrgen+M%C3%BCller&plus=1%2B1",
    "broken=%zz&half=%4&bad=%ff",
    "a=b=c",
    "space+in+name=x",
    "semi=1;2",
]


@pytest.mark.parametrize("body", BODIES)
def test_pairs_are_those_parse_qsl_gives(body):
    assert list(_pairs(body)) == parse_qsl(body, keep_blank_values=True)


def test_pairs_match_parse_qsl_on_random_bodies():
    alphabet = "ab=&%+[]2F9é;"
    generator = random.Random(6)
    for _ in range(3000):
        body = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 24)))
        assert list(_pairs(body)) == parse_qsl(body, keep_blank_values=True), body


def test_form_params_shape_arrays_nested_keys_and_repeats():
    body = b"id=x&image_ids[]=a&image_ids%5B%5D=b&album[name]=n&tag=1&tag=2"
    assert _form_params(body) == {"id": "x", "image_ids": ["a", "b"], "album": {"name": "n"}, "tag": ["1", "2"]}
