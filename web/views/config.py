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

from teamconfig.errors import ConfigError, ConfigFieldRefused, ConfigInvalid
from teamconfig.selectors import config_raw_for_team, effective_config_for_team
from teamconfig.services import ConfigApplied, config_update
from web.access import access_of, member_required, request_meta, team_or_404
from web.config_view import config_rows, merge_patch_between
from web.pages import render_page

OVERRIDES_MAX_CHARS = 256 * 1024


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
    form = OverridesForm(request.POST or None, initial={"overrides": json.dumps(stored, indent=2, ensure_ascii=False)})
    if request.method == "POST":
        if not choice.can_administer:
            raise PermissionDenied("Only team admins can change the configuration")
        if form.is_valid():
            patch = merge_patch_between(stored, form.cleaned_data["overrides"])
            try:
                outcome = config_update(
                    node=team, patch=patch, meta=request_meta(request), admin=access_of(request).principal.is_admin
                )
            except (ConfigInvalid, ConfigFieldRefused) as exc:
                form.add_error(
                    "overrides", f"{exc.field}: {exc.message}" if exc.field not in exc.message else exc.message
                )
            except ConfigError as exc:
                form.add_error("overrides", exc.message)
            else:
                if isinstance(outcome, ConfigApplied):
                    changed = ", ".join(outcome.changed_fields) or "nothing"
                    messages.success(request, f"Saved as version {outcome.version}. Changed: {changed}.")
                else:
                    messages.info(request, "Your change was submitted for approval by an org admin.")
                return redirect("web:config", team_id=team.node_id)
    context = {
        "team": team,
        "rows": config_rows(effective_config_for_team(team), raw),
        "lineage": raw["lineage"],
        "version": raw["version"],
        "form": form if choice.can_administer else None,
    }
    return render_page(
        request, "web/config.html", context, team=choice, nav="config", status=400 if form.errors else 200
    )
