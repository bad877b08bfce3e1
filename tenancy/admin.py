"""Django admin for operators and org admins. Org admins (staff with an org_admin membership) see only their orgs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from incidentfox_web.timestamps import admin_timestamp_column
from tenancy.audit import RequestMeta
from tenancy.models import (
    ApiToken,
    AuditEvent,
    Membership,
    Node,
    NodeType,
    Organization,
    Role,
    TokenKind,
)
from tenancy.services import api_token_issue, api_token_revoke
from tenancy.token_handoff import handoff_put, handoff_take

admin.site.site_header = "IncidentFox administration"
admin.site.site_title = "IncidentFox admin"
admin.site.index_title = "Organisations, teams, members and API tokens"


def admin_org_ids(request: HttpRequest) -> list[int] | None:
    """Orgs the admin user may manage; None means all (superusers)."""
    user = request.user
    if user.is_superuser:
        return None
    if not user.is_authenticated:
        return []
    org_ids = Membership.objects.filter(user_id=user.pk, role=Role.ORG_ADMIN, node__node_type=NodeType.ORG).values_list(
        "node__org_id", flat=True
    )
    return [int(org_id) for org_id in org_ids]


def _meta(request: HttpRequest) -> RequestMeta:
    user = request.user
    return RequestMeta(
        actor=getattr(user, "email", "") or user.get_username(),
        request_id=getattr(request, "request_id", ""),
        ip_address=request.META.get("REMOTE_ADDR"),
    )


class OrgScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Scopes every queryset and permission to the user's orgs; ``org_lookup`` names the path to the org."""

    org_lookup = "org"

    def _allowed(self, request: HttpRequest) -> bool:
        ids = admin_org_ids(request)
        return bool(request.user.is_active and request.user.is_staff and (ids is None or ids))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        ids = admin_org_ids(request)
        return queryset if ids is None else queryset.filter(**{f"{self.org_lookup}__in": ids})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        ids = admin_org_ids(request)
        if ids is not None:
            if db_field.related_model is Organization:
                kwargs["queryset"] = Organization.objects.filter(pk__in=ids)
            elif db_field.related_model is Node:
                kwargs["queryset"] = Node.objects.filter(org_id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdmin):
    org_lookup = "pk"
    list_display = ("org_id", "name", "oidc_issuer", "created")
    created = admin_timestamp_column("created_at", "Created")
    search_fields = ("org_id", "name")
    readonly_fields = ("org_id", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # operators provision orgs (``manage.py orgs create``)


@admin.register(Node)
class NodeAdmin(OrgScopedAdmin):
    list_display = ("node_id", "name", "node_type", "parent", "org", "created")
    created = admin_timestamp_column("created_at", "Created")
    list_filter = ("node_type",)
    search_fields = ("node_id", "name")
    readonly_fields = ("path", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # No re-parenting or renaming ids in v1: the path is fixed at creation.
        return (*self.readonly_fields, "org", "node_id", "parent", "node_type") if obj else self.readonly_fields


@admin.register(Membership)
class MembershipAdmin(OrgScopedAdmin):
    org_lookup = "node__org"
    list_display = ("user", "node", "role", "source", "created")
    created = admin_timestamp_column("created_at", "Created")
    list_filter = ("role", "source")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class TokenIssueForm(forms.ModelForm):  # type: ignore[type-arg]
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, help_text="Empty: the org's default expiry (or none)."
    )

    class Meta:
        model = ApiToken
        fields = ("org", "kind", "team", "label", "read_only")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        team, org = data.get("team"), data.get("org")
        if data.get("kind") == TokenKind.TEAM:
            if team is None or not team.is_team:
                self.add_error("team", "Team tokens need a team node.")
            elif org is not None and team.org_id != org.pk:
                self.add_error("team", "The team belongs to another organisation.")
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(OrgScopedAdmin):
    list_display = ("token_id", "label", "team", "kind", "scopes", "expires", "last_used", "status")
    expires = admin_timestamp_column("expires_at", "Expires")
    last_used = admin_timestamp_column("last_used_at", "Last used")
    list_filter = ("kind",)
    search_fields = ("token_id", "label")
    actions = ("revoke_tokens",)
    readonly_fields = (
        "token_id",
        "kind",
        "org",
        "team",
        "read_only",
        "issued_at",
        "issued_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "last_used_at",
    )

    @admin.display(description="Scopes")
    def scopes(self, token: ApiToken) -> str:
        return ", ".join(token.permissions)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = TokenIssueForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("org", "kind", "team", "label", "read_only", "expires_in_days")
        return ("label", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["label"])
            return
        data = form.cleaned_data
        issued = api_token_issue(
            org=data["org"],
            kind=data["kind"],
            team=data.get("team"),
            label=data.get("label", ""),
            read_only=data.get("read_only", False),
            expires_in_days=data.get("expires_in_days"),
            meta=_meta(request),
        )
        form.instance = issued.token
        obj.pk = issued.token.pk
        # Post/redirect/get: the secret crosses the redirect encrypted in the session and is shown once.
        handoff_put(request.session, token_id=issued.token.token_id, plaintext=issued.plaintext)
        request._issued_token_id = issued.token.token_id  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None) -> HttpResponse:
        token_id = getattr(request, "_issued_token_id", None)
        if token_id is None:
            return super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(reverse("admin:tenancy_apitoken_issued", args=[token_id]))

    def get_urls(self) -> list[URLPattern]:
        issued = path(
            "issued/<str:token_id>/", self.admin_site.admin_view(self.issued_view), name="tenancy_apitoken_issued"
        )
        return [issued, *super().get_urls()]

    def issued_view(self, request: HttpRequest, token_id: str) -> HttpResponse:
        """The one-time page: the secret if this session issued it moments ago, else a note that it is gone."""
        token = get_object_or_404(self.get_queryset(request).select_related("team"), token_id=token_id)
        plaintext = handoff_take(request.session, token_id=token.token_id)
        response = TemplateResponse(
            request,
            "admin/tenancy/apitoken/issued.html",
            {**self.admin_site.each_context(request), "token": token, "plaintext": plaintext, "opts": self.opts},
        )
        response["Cache-Control"] = "no-store"
        return response

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "team" and field is not None:  # teams only: never the org root or a grouping node
            field.queryset = field.queryset.filter(node_type=NodeType.TEAM).select_related("org")
        return field

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> HttpResponse | None:
        """Asks first (listing the tokens by label); revokes on the confirming POST."""
        live = queryset.filter(revoked_at__isnull=True).select_related("org", "team")
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/tenancy/apitoken/revoke_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "tokens": list(live),
                    "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                    "opts": self.opts,
                    "title": "Revoke tokens?",
                },
            )
        count = 0
        for token in live:
            api_token_revoke(token=token, meta=_meta(request))
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
        return None


@admin.register(AuditEvent)
class AuditEventAdmin(OrgScopedAdmin):
    list_display = ("when", "event_type", "actor", "team_id", "target", "ip_address")
    when = admin_timestamp_column("timestamp", "When")
    list_filter = ("event_type",)
    search_fields = ("actor", "target", "request_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
