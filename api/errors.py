"""Errors as RFC 9457 problem+json, each with a stable `code` (and `type` built from it)."""
import falcon
import orjson

PROBLEM_CONTENT_TYPE = "application/problem+json"
AUTH_CHALLENGE = 'Token realm="Application"'


class Problem(falcon.HTTPError):
    """An HTTP error with a stable machine-readable code and, optionally, the offending field."""

    def __init__(self, status, code, title, detail=None, field=None, headers=None):
        super().__init__(status, title=title, description=detail, headers=headers)
        self.code = code
        self.field = field


def unauthorized(detail="The token is missing, malformed, expired or not signed by a known key."):
    return Problem(
        falcon.HTTP_401,
        "invalid_token",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": AUTH_CHALLENGE},
    )


def forbidden(detail):
    return Problem(falcon.HTTP_403, "forbidden", "Forbidden", detail)


def not_found(detail="No such resource."):
    return Problem(falcon.HTTP_404, "not_found", "Not Found", detail)


def invalid(field, detail):
    return Problem(falcon.HTTP_422, "invalid_parameter", "Unprocessable Content", detail, field=field)


def malformed(detail):
    return Problem(falcon.HTTP_400, "malformed_body", "Bad Request", detail)


def unavailable(detail, retry_after=1):
    return Problem(
        falcon.HTTP_503,
        "unavailable",
        "Service Unavailable",
        detail,
        headers={"Retry-After": str(retry_after)},
    )


_CODES_BY_STATUS = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_parameter",
    500: "internal_error",
    503: "unavailable",
}


def problem_document(error):
    status = error.status_code
    code = getattr(error, "code", None) or _CODES_BY_STATUS.get(status, f"http_{status}")
    document = {
        "type": f"urn:problem:clipboard:{code}",
        "title": error.title,
        "status": status,
        "code": code,
    }
    if error.description:
        document["detail"] = error.description
    field = getattr(error, "field", None)
    if field:
        document["field"] = field
    return document


def serialize_problem(req, resp, error):
    """Falcon error serializer: always problem+json, whatever the client accepts."""
    resp.data = orjson.dumps(problem_document(error))
    resp.content_type = PROBLEM_CONTENT_TYPE
