"""The config page's form for one data source (``tools.<name>``): its fields from the schema, secrets write-only.

A secret field never shows its value: its help says whether one is set, and leaving it empty keeps it. A secret
stored at this team has a "Remove the stored …" checkbox next to it (an inherited one can only be removed where it
is set). The same form feeds "Test connection" (``changes``: unsaved settings laid over the saved ones; a removed
secret is left out of the test) and "Save" (``patch``; a removed secret is deleted from the team's overrides).
"""

from __future__ import annotations

from typing import Any

from django import forms

from teamconfig.schema import TOOL_FIELDS, FieldSpec

TITLES = {
    "kubernetes": "Kubernetes",
    "aws": "AWS",
    "cloudwatch": "CloudWatch",
    "prometheus": "Prometheus",
    "loki": "Loki",
    "elasticsearch": "Elasticsearch",
    "grafana": "Grafana",
    "github": "GitHub",
    "datadog": "Datadog",
    "sentry": "Sentry",
    "coralogix": "Coralogix",
}
HELP = {
    "kubernetes.kubeconfig": "The kubeconfig file's content (YAML), not a path.",
    "prometheus.auth": "A full Authorization header value, user:password (Basic) or a bearer token.",
    "loki.auth": "A full Authorization header value, user:password (Basic) or a bearer token.",
    "grafana.default_datasource": "Uid of the Prometheus data source to query; empty: Grafana's default.",
    "grafana.logs_datasource": "Uid of a Loki data source, to read logs through Grafana.",
    "github.base_url": "Only for GitHub Enterprise Server (https://github.example.com/api/v3).",
    "cloudwatch.log_groups": "One log group per line. Credentials come from the AWS data source.",
    "elasticsearch.index_pattern": "The indices the log tools search.",
    "datadog.site": "Your Datadog site (datadoghq.com, datadoghq.eu, us5.datadoghq.com …); the API is api.<site>.",
    "datadog.app_key": "An application key: monitors, events and logs are read with it.",
    "datadog.base_url": "Only to reach the API through a proxy; replaces the site.",
    "sentry.organization": "The organization's slug, as in its URLs.",
    "sentry.projects": "One project slug per line; empty: a service reads the project of its name.",
    "sentry.base_url": "Only for a self-hosted Sentry.",
    "coralogix.domain": "Your account's Coralogix domain (eu2.coralogix.com …); the API is api.<domain>.",
    "coralogix.default_application": "Every query keeps to this application name.",
    "coralogix.default_subsystem": "The subsystem read when no service is named.",
}
MULTILINE_SECRETS = frozenset({"kubernetes.kubeconfig"})


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value back (a typed kubeconfig must not reappear in the page)."""

    def format_value(self, value: Any) -> str | None:
        return None


def _label(key: str) -> str:
    return {"url": "URL", "base_url": "Base URL", "api_key": "API key", "auth": "Authorization"}.get(
        key, key.replace("_", " ").capitalize()
    )


REMOVE_PREFIX = "remove_"


def _is_set(value: Any) -> bool:
    return value not in (None, "")


def _field(path: str, key: str, spec: FieldSpec, current: Any, *, inherited: bool = False) -> forms.Field:
    label, help_text = _label(key), HELP.get(path, "")
    if spec.kind == "secret":
        state = "Set" if _is_set(current) else "Not set"
        widget: forms.Widget = (
            SecretTextarea(attrs={"rows": 4, "spellcheck": "false", "class": "code", "autocomplete": "off"})
            if path in MULTILINE_SECRETS
            else forms.PasswordInput(attrs={"autocomplete": "new-password"})
        )
        keep = "Leave empty to keep it." if state == "Set" else "Stored encrypted."
        if inherited:
            keep = "Set by the org or a group above this team: leave empty to use it; remove it there."
        return forms.CharField(
            label=f"{label} ({state.lower()})",
            required=False,
            max_length=65536,
            strip=False,
            widget=widget,
            help_text=" ".join(part for part in (help_text, keep) if part),
        )
    if spec.kind == "url":
        return forms.URLField(label=label, required=False, max_length=2048, assume_scheme="https", help_text=help_text)
    if spec.kind == "strings":
        return forms.CharField(
            label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=help_text
        )
    if spec.kind == "choice":
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "—"), *((c, c) for c in spec.choices)], help_text=help_text
        )
    placeholder = {"placeholder": spec.default} if spec.default else {}
    return forms.CharField(
        label=label,
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs=placeholder),
        help_text=help_text or (f"Default: {spec.default}" if spec.default else ""),
    )


class DataSourceForm(forms.Form):
    def __init__(self, data: Any, *, name: str, current: dict[str, Any], own: dict[str, Any] | None = None) -> None:
        """``current``: the effective settings (secrets masked); ``own``: what this team itself stores."""
        own = own or {}
        self.name = name
        self.title = TITLES.get(name, name)
        self.specs = TOOL_FIELDS[name]
        self.enabled_now = current.get("enabled") is True
        initial: dict[str, Any] = {"enabled": self.enabled_now, "timeout": current.get("timeout")}
        for key, spec in self.specs.items():
            value = current.get(key)
            if spec.kind == "strings":
                initial[key] = "\n".join(str(item) for item in value) if isinstance(value, list) else ""
            elif spec.kind != "secret":
                initial[key] = value if isinstance(value, str) else ""
        super().__init__(data, prefix=f"tools-{name}", initial=initial)
        self.fields["enabled"] = forms.BooleanField(label="Enabled", required=False)
        self.removable: list[str] = []  # secrets stored at this team, which the form may remove
        for key, spec in self.specs.items():
            value = current.get(key)
            stored_here = spec.kind == "secret" and _is_set(own.get(key))
            inherited = spec.kind == "secret" and _is_set(value) and not stored_here
            self.fields[key] = _field(f"{name}.{key}", key, spec, value, inherited=inherited)
            if stored_here:
                self.removable.append(key)
                self.fields[REMOVE_PREFIX + key] = forms.BooleanField(
                    label=f"Remove the stored {_label(key).lower() if key != 'api_key' else 'API key'}",
                    required=False,
                    help_text="On save it is deleted from this team's config; on test the check runs without it.",
                )
        self.fields["timeout"] = forms.IntegerField(
            label="Timeout (seconds)", required=False, min_value=1, max_value=300, help_text="Per call; default 30."
        )

    @property
    def setting_rows(self) -> list[tuple[forms.BoundField, forms.BoundField | None]]:
        """Each setting's field, with the "remove the stored secret" checkbox after a secret this team stores."""
        return [
            (self[key], self[REMOVE_PREFIX + key] if key in self.removable else None)
            for key in [*self.specs, "timeout"]
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key in self.removable:
            if data.get(REMOVE_PREFIX + key) and str(data.get(key) or "").strip():
                self.add_error(
                    REMOVE_PREFIX + key,
                    f"Either type a new {_label(key)} or remove the stored one, not both.",
                )
        return data

    def changes(self) -> dict[str, Any]:
        """The form's settings in the config's shape; a secret only when one was typed (else it is kept), or
        None when the stored one is to be removed."""
        data = self.cleaned_data
        changes: dict[str, Any] = {"enabled": bool(data["enabled"]), "timeout": data["timeout"]}
        for key, spec in self.specs.items():
            value = data[key]
            if spec.kind == "secret":
                if key in self.removable and data.get(REMOVE_PREFIX + key):
                    changes[key] = None
                elif value.strip():
                    changes[key] = {"secret": value}
            elif spec.kind == "strings":
                lines = [line.strip() for line in value.splitlines() if line.strip()]
                changes[key] = lines or None
            else:
                changes[key] = value or None
        return changes

    def patch(self) -> dict[str, Any]:
        return {"tools": {self.name: self.changes()}}
