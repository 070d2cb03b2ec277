"""Write JSON answers the way the reference API does."""
import orjson

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def send_json(resp, document, status=None):
    resp.data = orjson.dumps(document)
    resp.content_type = JSON_CONTENT_TYPE
    if status is not None:
        resp.status = status
