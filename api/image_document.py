"""The image JSON of the reference API, from an Image row."""
from core import timefmt


def render(image, zone_name):
    image_id = str(image.id)
    return {
        "id": image_id,
        "public_id": image_id,
        "album_id": image.album_id,
        "filename": image.filename,
        "format": image.format,
        "width": image.width,
        "height": image.height,
        "size": image.bytes,
        "title": image.title,
        "description": image.description,
        "metadatas": image.metadata,
        "tags": image.tags,
        "source_image_id": str(image.source_image_id) if image.source_image_id else None,
        "created_at": timefmt.render(image.created_at, zone_name),
        "updated_at": timefmt.render(image.updated_at, zone_name),
        "url": image.url,
    }
