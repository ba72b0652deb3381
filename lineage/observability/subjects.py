"""A trace's subject: which definition ran (“metric:3”, “workflow:12”).

The one parser of subjects, and the one registry of the kinds of definition
they name. Observability knows no engine, so each engine app registers its
model for its trace type when it starts (see its AppConfig.ready).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import models

_DEFINITIONS: dict[str, type[models.Model]] = {}


def register_definition(kind: str, model: type[models.Model]) -> None:
    """Traces whose subject is “<kind>:<pk>” are runs of `model`'s rows,
    which have an `organization` and a `name`."""
    _DEFINITIONS[kind] = model


def definition_kinds() -> list[str]:
    return list(_DEFINITIONS)


def definition_model(kind: str) -> type[models.Model] | None:
    return _DEFINITIONS.get(kind)


@dataclass(frozen=True)
class Subject:
    kind: str
    pk: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.pk}"

    @classmethod
    def parse(cls, text: str | None) -> Subject | None:
        """The subject written as “kind:pk”; None for anything else."""
        kind, _, pk = (text or "").partition(":")
        if not kind or not pk.isdigit():
            return None
        return cls(kind, int(pk))

    @property
    def model(self) -> type[models.Model] | None:
        return definition_model(self.kind)

    def definition(self, organization_id: int | None = None) -> models.Model | None:
        """The definition this subject names, if it still exists (and, given
        an organization, belongs to it)."""
        if self.model is None:
            return None
        rows = self.model.objects.filter(pk=self.pk)
        if organization_id is not None:
            rows = rows.filter(organization_id=organization_id)
        return rows.first()


def subject_for(kind: str, pk: int | None) -> str:
    """The subject a definition's runs are recorded under."""
    return str(Subject(kind, pk or 0))
