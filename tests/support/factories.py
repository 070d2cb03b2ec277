"""Create tenants, credentials, images and tokens for tests, straight through the models."""
import secrets as random_secrets
import uuid

from core import tokens
from models import Image, Organization, Secret, User


class Tenant:
    """An organization with one secret, able to sign integration tokens."""

    def __init__(self, name="tenant"):
        self.organization = Organization.create(name=name)
        self.secret = Secret.create(organization=self.organization, key=random_secrets.token_urlsafe(32))

    @property
    def id(self):
        return str(self.organization.id)

    def token(self, abilities=None, **claims):
        """A token signed with this tenant's secret; `abilities` maps album -> [ability, ...]."""
        body = {}
        if abilities is not None:
            body["abilities"] = grants(abilities)
        body["iss"] = str(self.secret.id)
        body.update(claims)
        return tokens.sign(body, self.secret.key)

    def user(self, email=None):
        return User.create(organization=self.organization, email=email or f"{uuid.uuid4().hex}@example.org")

    def image(self, album_id, **fields):
        fields.setdefault("filename", "photo.png")
        fields.setdefault("format", "png")
        return Image.create(organization=self.organization, album_id=album_id, **fields)


def grants(abilities):
    return {album: {"Access": {name: True for name in names}} for album, names in abilities.items()}


def user_token(user, signing_key, abilities=None, **claims):
    body = {"user_id": str(user.id)}
    if abilities is not None:
        body["abilities"] = grants(abilities)
    body.update(claims)
    return tokens.sign(body, signing_key)


def auth(token):
    return {"Authorization": f'Token token="{token}"'}


def raw_hs256(claims, key, header=None):
    """Sign any JSON claims with HS256 by hand (pyjwt refuses some malformed claims we test)."""
    import base64
    import hashlib
    import hmac
    import json

    def segment(document):
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    signing_input = f"{segment(header or {'typ': 'JWT', 'alg': 'HS256'})}.{segment(claims)}"
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
