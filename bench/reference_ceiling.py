"""The API bench's ceiling: a bare Falcon app answering the seed's body, doing no work.

Served by gunicorn exactly like the real app (`gunicorn -c gunicorn.conf.py ... bench.reference_ceiling:app`),
so the difference between the two is the real app's own work.
"""
import falcon

from bench.common import SEED_RESPONSE


class Ceiling:
    def on_post(self, req, resp):
        resp.data = SEED_RESPONSE
        resp.content_type = "application/json; charset=utf-8"


class Health:
    def on_get(self, req, resp):
        resp.data = b'{"status":"ok"}'


app = falcon.App()
app.add_route("/api/v1/clipboards", Ceiling())
app.add_route("/healthz", Health())
