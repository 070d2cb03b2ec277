"""Falcon middleware: the headers every answer carries, and authentication."""
import re
import time

from core.ids import random_uuid

# The reference API's headers on every answer (Rails defaults), in its order.
STANDARD_HEADERS = (
    ("Cache-Control", "no-cache, no-store"),
    ("Pragma", "no-cache"),
    ("Expires", "Fri, 01 Jan 1990 00:00:00 GMT"),
    ("Vary", "Accept-Encoding"),
    ("P3P", 'CP="NOI ADM DEV PSAi COM NAV OUR OTRo STP IND DEM"'),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-XSS-Protection", "1; mode=block"),
    ("X-Download-Options", "noopen"),
    ("X-Permitted-Cross-Domain-Policies", "none"),
    ("Referrer-Policy", "origin-when-cross-origin, strict-origin-when-cross-origin"),
)
# Like Rails' ActionDispatch::RequestId: an incoming id of sane characters is kept.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.@:-]{1,255}$")


class StandardHeaders:
    """Stamp request id, runtime, security and no-cache headers on every answer, errors too."""

    def process_request(self, req, resp):
        req.context.started = time.perf_counter()
        incoming = req.env.get("HTTP_X_REQUEST_ID")
        req.context.request_id = (
            incoming if incoming and _VALID_REQUEST_ID.match(incoming) else random_uuid()
        )
        req.context.caller = None

    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_headers((
            *STANDARD_HEADERS,
            ("X-Request-Id", req.context.request_id),
            ("X-Runtime", f"{time.perf_counter() - req.context.started:.6f}"),
        ))


class Authentication:
    """Verify the token for every resource not marked `public`; put the Caller on req.context."""

    def __init__(self, authenticator, token_ttl_seconds, clock=time.time):
        self._authenticator = authenticator
        self._ttl = token_ttl_seconds
        self._clock = clock

    def process_resource(self, req, resp, resource, params):
        if resource is None or getattr(resource, "public", False):
            return
        req.context.caller = self._authenticator.authenticate(req.get_header("Authorization"))

    def process_response(self, req, resp, resource, req_succeeded):
        caller = req.context.caller
        if caller is not None:
            resp.set_header("X-token", caller.refreshed_token(int(self._clock()), self._ttl))
