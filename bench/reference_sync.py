"""The API bench's synchronous peer: what one would write without a queue.

The real app's middleware (standard headers, JWT verification with PyJWT against the cached
secret, the refreshed X-token) and body parsing, but the POST writes the clipboard row and its
image rows to PostgreSQL in the request, one transaction on a pooled connection, after checking
the images against the organization and the token's albums as the worker does. Served by
gunicorn like the real app: `bench.reference_sync:get_app()`.
"""
import falcon

from api import errors
from api.auth import Authenticator
from api.keystore import KeyStore
from api.middleware import Authentication, StandardHeaders
from api.rendering import send_json
from api.resources.clipboards import read_clipboard_request
from api.resources.health import Health
from core import settings as settings_module
from core import timefmt
from models import Clipboard, ClipboardImage, Image, database
from models.db import bind

class SyncClipboards:
    def __init__(self, settings):
        self._settings = settings

    def on_post(self, req, resp):
        caller = req.context.caller
        albums, clipboard_id, image_ids = read_clipboard_request(req, caller, self._settings)
        now = timefmt.utcnow()
        with database.connection_context(), database.atomic():
            allowed = {
                str(image_id)
                for (image_id,) in Image.select(Image.id)
                .where(Image.id.in_(image_ids) & (Image.organization == caller.organization_id)
                       & Image.album_id.in_(albums))
                .tuples()
            } if image_ids else set()
            created = (
                Clipboard.insert(id=clipboard_id, organization=caller.organization_id, user_id=caller.user_id,
                                 revision=1, state="ready", created_at=now, updated_at=now)
                .on_conflict(conflict_target=[Clipboard.id],
                             update={Clipboard.revision: Clipboard.revision + 1, Clipboard.updated_at: now},
                             where=(Clipboard.organization == caller.organization_id))
                .returning(Clipboard.created_at)
                .tuples()
                .execute()
            )
            row = next(iter(created), None)
            if row is None:
                raise errors.not_found("No such clipboard.")
            ClipboardImage.delete().where(ClipboardImage.clipboard == clipboard_id).execute()
            accepted = [i for i in image_ids if i in allowed]
            if accepted:
                ClipboardImage.insert_many(
                    [(clipboard_id, n, i) for n, i in enumerate(accepted)],
                    fields=[ClipboardImage.clipboard, ClipboardImage.position, ClipboardImage.image_id],
                ).execute()
        send_json(resp, {
            "id": clipboard_id,
            "user_id": caller.user_id,
            "organization_id": caller.organization_id,
            "created_at": timefmt.render(row[0], self._settings.time_zone),
        })
        resp.set_header("Location", f"/api/v1/clipboards/{clipboard_id}")


def get_app():
    settings = settings_module.load()
    bind(settings.database_url, pooled=True)
    authenticator = Authenticator(KeyStore(ttl=settings.secret_cache_seconds), settings.signing_key)
    app = falcon.App(middleware=[StandardHeaders(), Authentication(authenticator, settings.token_ttl_seconds)])
    app.set_error_serializer(errors.serialize_problem)
    app.add_route("/healthz", Health())
    app.add_route("/api/v1/clipboards", SyncClipboards(settings))
    return app
