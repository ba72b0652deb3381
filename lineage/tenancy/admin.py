"""The admin, scoped to the staff user's organizations.

A superuser sees and changes everything. Any other staff user sees and
changes only the rows of organizations they belong to: every model admin of
Lineage derives from OrganizationScopedAdmin, which narrows the changelist,
the objects that can be opened (another organization's is "not found"),
search, actions (they act on the narrowed queryset), foreign-key and
many-to-many choices, autocomplete and list filters. Admins of rows that
belong to no organization (groups, sign-in attempts) are for superusers.

List filters never answer 500: a value PostgreSQL cannot take (a NUL
character, a year past 9999) is a bad lookup, shown as Django shows one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest

from lineage.tenancy.models import Membership, Organization

User = get_user_model()
# Date-hierarchy parts and the bounds PostgreSQL and Python dates share.
_DATE_PARTS = {"__year": (1, 9999), "__month": (1, 12), "__day": (1, 31)}


def organization_ids(user: Any) -> list[int]:
    return list(
        Membership.objects.filter(user=user).values_list("organization_id", flat=True)
    )


def organization_path(model: type[Model]) -> str | None:
    """The lookup from `model` to its Organization ("pk" for Organization
    itself), or None when rows of `model` belong to no organization."""
    if model is Organization:
        return "pk"
    for name in ("organization", "org"):
        try:
            field = model._meta.get_field(name)
        except Exception:
            continue
        if field.is_relation and field.related_model is Organization:
            return name
    return None


def scoped(queryset: QuerySet, user: Any, path: str | None = None) -> QuerySet:
    """`queryset` narrowed to the user's organizations (all for superusers)."""
    if user.is_superuser:
        return queryset
    path = path or organization_path(queryset.model)
    if path is None:
        return queryset.none()
    return queryset.filter(**{f"{path}__in": organization_ids(user)})


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field filter offering only the user's organizations' rows."""

    def field_choices(self, field, request, model_admin) -> list[tuple[Any, str]]:
        ordering = self.field_admin_ordering(field, request, model_admin) or ()
        choices = scoped(field.related_model._default_manager.all(), request.user)
        return [(obj.pk, str(obj)) for obj in choices.order_by(*ordering)]


class SafeChangeList(ChangeList):
    """Refuses lookups PostgreSQL would reject while rendering the page."""

    def get_queryset(self, request: HttpRequest, exclude_parameters=None) -> QuerySet:
        for key, values in self.params.items():
            for value in values if isinstance(values, list) else [values]:
                if "\x00" in str(value):
                    raise IncorrectLookupParameters(f"{key} contains a NUL character")
                bounds = next((b for s, b in _DATE_PARTS.items() if key.endswith(s)), None)
                if bounds and not (str(value).isdigit() and bounds[0] <= int(value) <= bounds[1]):
                    raise IncorrectLookupParameters(f"{key} is out of range")
        return super().get_queryset(request, exclude_parameters)


class OrganizationScopedAdmin(admin.ModelAdmin):
    """A model admin that shows a non-superuser only their organizations'
    rows. `organization_lookup` says how to reach the row's organization
    when it is not a field of the model itself (e.g. "metric__organization")."""

    organization_lookup: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scoped(super().get_queryset(request), request.user, self.organization_lookup)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return SafeChangeList

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [self._scoped_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_filter(self, entry: Any) -> Any:
        if not isinstance(entry, str):
            return entry
        model = self.model
        for part in entry.split("__"):
            field = model._meta.get_field(part)
            if not field.is_relation:
                return entry
            model = field.related_model
        return (entry, ScopedRelatedFilter) if organization_path(model) else entry

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _narrowed(field, request)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: Any):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _narrowed(field, request)


def _narrowed(field: Any, request: HttpRequest) -> Any:
    """A model-choice form field offering only the user's organizations' rows."""
    queryset = getattr(field, "queryset", None)
    if queryset is not None and organization_path(queryset.model):
        field.queryset = scoped(queryset, request.user)
    return field


class ScopedInline(admin.TabularInline):
    """An inline whose foreign keys offer only the user's organizations' rows."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        return _narrowed(super().formfield_for_foreignkey(db_field, request, **kwargs), request)


class MembershipInline(ScopedInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    list_display = ("name", "slug", "member_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at",)
    inlines = (MembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        # One query for the list, not one count per organization.
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # An organization is made by a superuser; its staff then run it.
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    @admin.display(description="members", ordering="member_total")
    def member_count(self, organization: Organization) -> int:
        return organization.member_total


# --- Users and what belongs to no organization -----------------------------------

admin.site.unregister(User)
admin.site.unregister(Group)

# What only a superuser may set: making a user staff, superuser, or giving
# them permissions would let a staff user raise themselves above their scope.
_PRIVILEGES = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class ScopedUserAdmin(UserAdmin):
    """Users who share an organization with the staff user (superusers: all).
    Others may not grant privileges, nor change a user who also belongs to an
    organization they are not in, or who is a superuser."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(memberships__organization_id__in=organization_ids(request.user)).distinct()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else fields + _PRIVILEGES

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        theirs = set(Membership.objects.filter(user=obj).values_list("organization_id", flat=True))
        return not obj.is_superuser and theirs <= set(organization_ids(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


def superuser_only(model_admin: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`model_admin`, open only to superusers (for rows of no organization)."""

    class SuperuserOnly(model_admin):
        def has_module_permission(self, request: HttpRequest) -> bool:
            return request.user.is_superuser

        def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            return request.user.is_superuser and super().has_view_permission(request, obj)

        def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            return request.user.is_superuser and super().has_change_permission(request, obj)

        def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            return request.user.is_superuser and super().has_delete_permission(request, obj)

        def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
            return request.user.is_superuser and super().has_add_permission(request, *args)

    SuperuserOnly.__name__ = f"SuperuserOnly{model_admin.__name__}"
    return SuperuserOnly


# Groups hold permissions: granting them is a superuser's business.
admin.site.register(Group, superuser_only(GroupAdmin))


def _sign_in_records_for_superusers() -> None:
    """django-axes' sign-in attempts and logs name users of every organization."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        if admin.site.is_registered(model):
            model_admin = type(admin.site.get_model_admin(model))
            admin.site.unregister(model)
            admin.site.register(model, superuser_only(model_admin))


_sign_in_records_for_superusers()
