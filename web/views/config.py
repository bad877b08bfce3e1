"""Team config: the effective config with each value's level (secrets masked); team admins edit the overrides."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from engine.connection_check import ConnectionCheck
from teamconfig.connection_checks import checkable_sources, data_source_check
from teamconfig.errors import ConfigError, ConfigFieldRefused, ConfigInvalid
from teamconfig.models import ChangeStatus
from teamconfig.schema import validate_tool_changes
from teamconfig.selectors import (
    change_requests_for_org,
    config_history_for_node,
    config_raw_for_team,
    effective_config_for_team,
)
from teamconfig.services import ConfigApplied, config_update
from web.access import access_of, member_required, request_meta, team_or_404
from web.config_view import config_rows, diff_lines, merge_patch_between
from web.data_source_forms import DataSourceForm
from web.pages import render_page

OVERRIDES_MAX_CHARS = 256 * 1024
HISTORY_SHOWN = 20
LLM_PROVIDERS = [
    ("", "None: the built-in deterministic engine"),
    ("openai", "OpenAI"),
    ("anthropic", "Anthropic"),
    ("azure_openai", "Azure OpenAI"),
    ("openai_compatible", "OpenAI-compatible server"),
]


class SectionForm(forms.Form):
    """A form for one section of the config; ``patch`` is the merge patch it saves."""

    def patch(self) -> dict[str, Any]:
        raise NotImplementedError


class SlackForm(SectionForm):
    slack_channel = forms.CharField(label="Slack channel", required=False, max_length=255, help_text="e.g. #sre-oncall")
    slack_group_to_ping = forms.CharField(
        label="Group to ping", required=False, max_length=255, help_text="e.g. @payments-oncall"
    )

    def patch(self) -> dict[str, Any]:
        return {key: (self.cleaned_data[key] or None) for key in ("slack_channel", "slack_group_to_ping")}


class LlmForm(SectionForm):
    provider = forms.ChoiceField(label="Provider", choices=LLM_PROVIDERS, required=False)
    model = forms.CharField(label="Model", required=False, max_length=200)
    base_url = forms.URLField(label="Base URL", required=False, max_length=2048, assume_scheme="https")
    api_key = forms.CharField(
        label="API key",
        required=False,
        max_length=8192,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted. Leave empty to keep the current key.",
    )

    def patch(self) -> dict[str, Any]:
        data = self.cleaned_data
        if not data["provider"]:
            return {"llm": None}
        llm: dict[str, Any] = {"provider": data["provider"], "model": data["model"] or None}
        llm["base_url"] = data["base_url"] or None
        if data["api_key"]:
            llm["api_key"] = {"secret": data["api_key"]}
        return {"llm": llm}


def _data_source_forms(
    effective: dict[str, Any], stored: dict[str, Any], post: Any, section: str
) -> dict[str, DataSourceForm]:
    """A form per data source; ``stored`` (this team's own overrides) says which secrets the team may remove."""
    tools = effective.get("tools") if isinstance(effective.get("tools"), dict) else {}
    own_tools = stored.get("tools") if isinstance(stored.get("tools"), dict) else {}
    assert isinstance(tools, dict)
    assert isinstance(own_tools, dict)
    return {
        f"tools.{name}": DataSourceForm(
            post if section == f"tools.{name}" else None,
            name=name,
            current=current if isinstance(current := tools.get(name), dict) else {},
            own=own if isinstance(own := own_tools.get(name), dict) else {},
        )
        for name in checkable_sources()
    }


def _test_connection(team: Any, form: DataSourceForm) -> ConnectionCheck | None:
    """Run the connection test with the form's unsaved settings; None (and the error on the form) when invalid."""
    changes = form.changes()
    try:
        validate_tool_changes(form.name, changes)
    except ConfigInvalid as exc:
        form.add_error(None, f"{exc.field}: {exc.message}" if exc.field not in exc.message else exc.message)
        return None
    return data_source_check(team=team, name=form.name, changes=changes)


def _section_forms(effective: dict[str, Any], post: Any = None, section: str = "") -> dict[str, SectionForm]:
    llm = effective.get("llm") if isinstance(effective.get("llm"), dict) else {}
    assert isinstance(llm, dict)
    slack_initial = {key: effective.get(key) or "" for key in ("slack_channel", "slack_group_to_ping")}
    llm_initial = {key: llm.get(key) or "" for key in ("provider", "model", "base_url")}
    return {
        "slack": SlackForm(post if section == "slack" else None, prefix="slack", initial=slack_initial),
        "llm": LlmForm(post if section == "llm" else None, prefix="llm", initial=llm_initial),
    }


class OverridesForm(forms.Form):
    overrides = forms.CharField(
        label="This team's overrides (JSON)",
        max_length=OVERRIDES_MAX_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code"}),
        help_text=(
            "Only what this team sets; everything else is inherited. Remove a key to inherit it again. "
            'Secrets: "vault://…" or "env://…" references, {"secret": "value"} to store one encrypted, '
            'or leave "********" to keep the current value.'
        ),
    )

    def clean_overrides(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["overrides"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("The overrides must be a JSON object.")
        return value


@member_required
@require_http_methods(["GET", "POST"])
def config(request: HttpRequest, team_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    raw = config_raw_for_team(team)
    stored: dict[str, Any] = raw["configs"].get(team.node_id, {})
    section = request.POST.get("section", "") if request.method == "POST" else ""
    effective = effective_config_for_team(team)
    sections = _section_forms(effective, request.POST, section)
    data_sources = _data_source_forms(effective, stored, request.POST, section)
    checked: tuple[str, ConnectionCheck] | None = None
    json_post = request.POST if request.method == "POST" and not section else None
    form = OverridesForm(json_post, initial={"overrides": json.dumps(stored, indent=2, ensure_ascii=False)})
    if request.method == "POST":
        if not choice.can_administer:
            raise PermissionDenied("Only team admins can change the configuration")
        bound: forms.Form | None = (sections.get(section) or data_sources.get(section)) if section else form
        testing = isinstance(bound, DataSourceForm) and request.POST.get("action") == "test"
        if isinstance(bound, DataSourceForm) and testing and bound.is_valid():
            check = _test_connection(team, bound)
            if check is not None:
                checked = (section, check)
        elif bound is not None and bound.is_valid():
            patch = (
                bound.patch()
                if isinstance(bound, SectionForm | DataSourceForm)
                else merge_patch_between(stored, form.cleaned_data["overrides"])
            )
            try:
                outcome = config_update(
                    node=team, patch=patch, meta=request_meta(request), admin=access_of(request).principal.is_admin
                )
            except (ConfigInvalid, ConfigFieldRefused) as exc:
                message = f"{exc.field}: {exc.message}" if exc.field not in exc.message else exc.message
                bound.add_error(None if section else "overrides", message)
            except ConfigError as exc:
                bound.add_error(None if section else "overrides", exc.message)
            else:
                if isinstance(outcome, ConfigApplied):
                    changed = ", ".join(outcome.changed_fields) or "nothing"
                    messages.success(request, f"Saved as version {outcome.version}. Changed: {changed}.")
                else:
                    messages.info(request, "Your change was submitted for approval by an org admin.")
                return redirect("web:config", team_id=team.node_id)
    history = [(version, diff_lines(version.diff)) for version in config_history_for_node(team, limit=HISTORY_SHOWN)]
    pending = [
        (change, diff_lines(change.changes))
        for change in change_requests_for_org(team.org, status=ChangeStatus.PENDING.value, node=team)[:HISTORY_SHOWN]
    ]
    has_errors = bool(form.errors) or any(
        section_form.errors for section_form in [*sections.values(), *data_sources.values()]
    )
    context = {
        "team": team,
        "rows": config_rows(effective, raw),
        "sections": sections if choice.can_administer else {},
        "data_sources": list(data_sources.items()) if choice.can_administer else [],
        "checked": checked,
        "history": history,
        "pending": pending,
        "lineage": raw["lineage"],
        "version": raw["version"],
        "form": form if choice.can_administer else None,
    }
    return render_page(
        request, "web/config.html", context, team=choice, nav="config", status=400 if has_errors else 200
    )
