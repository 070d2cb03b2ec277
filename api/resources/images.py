"""The image catalog a clipboard copies from: register, fetch, and list an album's images."""
import base64
import binascii
import datetime
import uuid

import falcon
import peewee

from api import database_access, errors, forms, image_document
from api.rendering import send_json
from core import albums
from core.ids import random_uuid
from models import Image

IMAGE_UPLOAD = "image_upload"
IMAGE_LIST = "image_list"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Images:
    """POST /api/v1/images: register image metadata in an album (needs image_upload on it)."""

    def __init__(self, settings):
        self._settings = settings

    def on_post(self, req, resp):
        caller = req.context.caller
        params = forms.read_params(req, self._settings.max_body_bytes)
        album_id = forms.required_string(params, "album_id", albums.ALBUM_ID, albums.DESCRIPTION)
        if not caller.may(IMAGE_UPLOAD, album_id):
            raise errors.forbidden(f"The token does not grant image_upload on album {album_id}.")
        fields = {
            "id": forms.optional_uuid(params, "id") or random_uuid(),
            "album_id": album_id,
            "filename": forms.optional_text(params, "filename", 1024),
            "format": forms.optional_text(params, "format", 32),
            "width": forms.optional_count(params, "width", 2**31 - 1),
            "height": forms.optional_count(params, "height", 2**31 - 1),
            "bytes": forms.optional_count(params, "bytes"),
            "url": forms.optional_text(params, "url", 4096),
            "title": forms.optional_text(params, "title", 1024),
            "description": forms.optional_text(params, "description", 65536),
            "metadata": forms.optional_object(params, "metadatas"),
        }
        with database_access.connection("The image catalog"):
            try:
                image = Image.create(organization=caller.organization_id, **fields)
            except peewee.IntegrityError:
                raise errors.Problem(falcon.HTTP_409, "conflict", "Conflict", "An image with this id exists.") from None
        send_json(resp, image_document.render(image, self._settings.time_zone), falcon.HTTP_201)
        resp.set_header("Location", f"/api/v1/images/{image.id}")


class ImageItem:
    """GET /api/v1/images/{image_id}: needs image_list on the image's album."""

    def __init__(self, settings):
        self._settings = settings

    def on_get(self, req, resp, image_id):
        caller = req.context.caller
        image_id = forms.path_uuid(image_id, "image")
        with database_access.connection("The image catalog"):
            image = Image.get_or_none((Image.id == image_id) & (Image.organization == caller.organization_id))
        if image is None:
            raise errors.not_found("No such image.")
        if not caller.may(IMAGE_LIST, image.album_id):
            raise errors.forbidden(f"The token does not grant image_list on album {image.album_id}.")
        send_json(resp, image_document.render(image, self._settings.time_zone))


class AlbumImages:
    """GET /api/v1/albums/{album_id}/images?limit=&cursor=: newest first, keyset-paginated."""

    def __init__(self, settings):
        self._settings = settings

    def on_get(self, req, resp, album_id):
        caller = req.context.caller
        if not albums.is_album_id(album_id):
            raise errors.not_found("No such album.")
        if not caller.may(IMAGE_LIST, album_id):
            raise errors.forbidden(f"The token does not grant image_list on album {album_id}.")
        limit = forms.optional_count(req.params, "limit", MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        after = _decode_cursor(req.params.get("cursor"))
        query = (
            Image.select()
            .where((Image.organization == caller.organization_id) & (Image.album_id == album_id))
            .order_by(Image.created_at.desc(), Image.id.desc())
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(peewee.Tuple(Image.created_at, Image.id) < peewee.Tuple(*after))
        with database_access.connection("The image catalog"):
            page = list(query)
        more = len(page) > limit
        page = page[:limit]
        send_json(
            resp,
            {
                "images": [image_document.render(image, self._settings.time_zone) for image in page],
                "next_cursor": _encode_cursor(page[-1]) if more else None,
            },
        )


def _encode_cursor(image):
    text = f"{image.created_at.isoformat()}|{image.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor):
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, image_id = text.split("|")
        return datetime.datetime.fromisoformat(created_at), uuid.UUID(image_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise errors.invalid("cursor", "cursor is not one this API returned.") from None
