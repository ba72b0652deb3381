"""API tokens: how scripts and dashboards outside Lineage read one
organization's traces through the JSON API."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from lineage.tenancy.models import Organization

TOKEN_PREFIX = "lin_"
# The start of a token that the dashboard shows, to tell tokens apart.
VISIBLE_CHARACTERS = 12
# A token's last use is written at most this often (not on every request).
LAST_USED_PRECISION = timedelta(minutes=5)


def token_digest(token: str) -> str:
    """SHA-256 of the whole token. A token is 256 random bits, so a fast hash
    is enough: nothing can be guessed from the stored digests."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)

    def for_org(self, organization: Organization) -> ApiTokenQuerySet:
        return self.filter(organization=organization)

    def find(self, token: str) -> ApiToken | None:
        """The active token with this secret (unique index on the digest)."""
        return self.active().select_related("organization").filter(digest=token_digest(token)).first()


class ApiToken(models.Model):
    """Reads one organization's traces through the API. The secret is shown
    once, when it is created; only its digest and its first characters are kept."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=VISIBLE_CHARACTERS)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, organization: Organization, name: str, created_by=None) -> tuple[ApiToken, str]:
        """A new token and its secret (which is not stored)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            organization=organization,
            name=name,
            prefix=secret[:VISIBLE_CHARACTERS],
            digest=token_digest(secret),
            created_by=created_by,
        )
        return token, secret

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def note_use(self) -> None:
        """Record that the token was used (at most every few minutes)."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
