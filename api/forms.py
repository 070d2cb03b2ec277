"""Read request bodies the way Rails clients send them: form-encoded (with `name[]` arrays) or JSON.

`read_params` returns a dict of parameter name to value, where a form's `name[]` or repeated
`name` keys become a list under `name` and `name[key]` keys a dict, so resources see one shape
for either encoding.
"""
import re
from urllib.parse import unquote_plus

import falcon
import orjson

from api import errors
from core.ids import CANONICAL_UUID

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _media_type(req):
    content_type = req.content_type
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower()


def _read_body(req, max_bytes):
    length = req.content_length
    if length is not None and length > max_bytes:
        raise errors.Problem(falcon.HTTP_413, "body_too_large", "Content Too Large", f"The body exceeds {max_bytes} bytes.")
    # Exactly the declared length when there is one: asked for more, gunicorn reads on until the
    # body ends, one call more than needed on every request.
    body = req.bounded_stream.read(length if length is not None else max_bytes + 1)
    if len(body) > max_bytes:
        raise errors.Problem(falcon.HTTP_413, "body_too_large", "Content Too Large", f"The body exceeds {max_bytes} bytes.")
    return body


_NESTED_KEY = re.compile(r"^([^\[\]]+)\[([^\[\]]+)\]$")


def _pairs(text):
    """The (name, value) pairs of a form body, as parse_qsl(text, keep_blank_values=True) gives them.

    Written out because parse_qsl unquotes every name and value, and most of them hold nothing
    to unquote (parse_qsl was a tenth of a POST's application time).
    """
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in field or "+" in field:
            name, value = unquote_plus(name), unquote_plus(value)
        yield name, value


def _form_params(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.malformed("The form body is not valid UTF-8.") from None
    params = {}
    for key, value in _pairs(text):
        nested = _NESTED_KEY.match(key) if "[" in key else None
        if nested:
            table = params.setdefault(nested.group(1), {})
            if isinstance(table, dict):
                table[nested.group(2)] = value
        elif key.endswith("[]"):
            params.setdefault(key[:-2], [])
            if not isinstance(params[key[:-2]], list):
                params[key[:-2]] = [params[key[:-2]]]
            params[key[:-2]].append(value)
        elif key in params:
            previous = params[key]
            params[key] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            params[key] = value
    return params


def _json_params(body):
    if not body.strip():
        return {}
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise errors.malformed("The body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise errors.malformed("The JSON body must be an object.")
    return params


def read_params(req, max_bytes):
    """Return the body's parameters as a dict; 413, 415 or 400 when the body cannot be read."""
    media_type = _media_type(req)
    body = _read_body(req, max_bytes)
    if media_type == FORM:
        return _form_params(body)
    if media_type == JSON:
        return _json_params(body)
    if media_type is None and not body:
        return {}
    raise errors.Problem(
        falcon.HTTP_415,
        "unsupported_media_type",
        "Unsupported Media Type",
        f"Send {FORM} or {JSON}.",
    )


def optional_uuid(params, name):
    """Return params[name] as a lower-case UUID string, None when absent or empty; else 422."""
    value = params.get(name)
    if value is None or value == "":
        return None
    return _uuid(value, name)


def _uuid(value, name):
    """The canonical (hyphenated, any case) form only; rendered lower-case."""
    if isinstance(value, str) and CANONICAL_UUID.fullmatch(value):
        return value.lower()
    raise errors.invalid(name, f"{name} must be a UUID.")


def uuid_list(params, name, maximum):
    """Return params[name] as a list of distinct UUID strings in first-seen order; else 422."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise errors.invalid(name, f"{name} must be a list of UUIDs.")
    distinct = dict.fromkeys(_uuid(item, name) for item in value if item != "")
    if len(distinct) > maximum:
        raise errors.invalid(name, f"{name} holds {len(distinct)} ids; at most {maximum} are allowed.")
    return list(distinct)


def required_string(params, name, pattern, description):
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise errors.invalid(name, f"{name} is required.")
    if not pattern.fullmatch(value):
        raise errors.invalid(name, f"{name} must be {description}.")
    return value


def optional_text(params, name, max_length):
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise errors.invalid(name, f"{name} must be text of at most {max_length} characters.")
    return value


def optional_count(params, name, maximum=2**63 - 1):
    """Return a non-negative whole number (given as a number or a decimal string), or None."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise errors.invalid(name, f"{name} must be a whole number from 0 to {maximum}.")
    return value


def optional_object(params, name):
    value = params.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.invalid(name, f"{name} must be an object.")
    return value


def path_uuid(value, what):
    """A UUID from the URL path, lower-cased; anything else names nothing here (404)."""
    if isinstance(value, str) and CANONICAL_UUID.fullmatch(value):
        return value.lower()
    raise errors.not_found(f"No such {what}.")
