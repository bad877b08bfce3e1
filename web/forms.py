"""Forms: launching an investigation and filtering the history. Limits mirror the Agent API (API.md §4.1)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from investigations.models import Status
from investigations.run_input import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_ATTACHMENTS_TOTAL_BYTES

MESSAGE_MAX_CHARS = 20_000
ATTACHMENT_MAX_BYTES = MAX_ATTACHMENT_BYTES
ATTACHMENTS_TOTAL_MAX_BYTES = MAX_ATTACHMENTS_TOTAL_BYTES
ATTACHMENTS_MAX_COUNT = MAX_ATTACHMENTS
TIME_WINDOW_RE = re.compile(r"^[1-9][0-9]*[mhd]$")
TIME_WINDOW_MAX = timedelta(days=30)
HISTORY_Q_MAX_CHARS = 200


def human_size(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _window_length(value: str) -> timedelta:
    amount, unit = int(value[:-1]), value[-1]
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


class InvestigationForm(forms.Form):
    """The "New investigation" form. ``agents`` is [(name, description)] of the team's enabled agents."""

    agent = forms.ChoiceField(widget=forms.RadioSelect)
    message = forms.CharField(
        max_length=MESSAGE_MAX_CHARS,
        error_messages={"required": "Describe the incident."},
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What is going on? For example: “checkout-api returns 502s since 14:30”.",
    )
    service = forms.CharField(max_length=200, required=False)
    namespace = forms.CharField(max_length=253, required=False)
    environment = forms.ChoiceField(
        required=False, choices=[("", "—"), ("prod", "prod"), ("staging", "staging"), ("dev", "dev")]
    )
    severity = forms.ChoiceField(
        required=False, choices=[("", "—"), ("high", "high"), ("medium", "medium"), ("low", "low")]
    )
    time_window = forms.CharField(
        max_length=10, required=False, help_text="How far back to look, e.g. 15m, 1h, 24h (at most 30d)."
    )
    related_alert = forms.CharField(max_length=200, required=False)
    hint = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    paste_name = forms.CharField(max_length=255, required=False, label="Pasted output name", help_text="e.g. pods.txt")
    paste_source = forms.CharField(
        max_length=2000, required=False, label="Command or query", help_text="e.g. kubectl get pods -n payments"
    )
    paste_content = forms.CharField(
        required=False,
        label="Pasted output",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=f"kubectl output, logs, a stack trace… At most {human_size(ATTACHMENT_MAX_BYTES)}.",
    )
    uploads = MultipleFileField(
        required=False,
        label="Files",
        help_text=(
            f"Text files only. At most {human_size(ATTACHMENT_MAX_BYTES)} each, "
            f"{human_size(ATTACHMENTS_TOTAL_MAX_BYTES)} in total, {ATTACHMENTS_MAX_COUNT} files."
        ),
    )

    def __init__(self, *args: Any, agents: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent_descriptions = dict(agents)
        agent_field = self.fields["agent"]
        assert isinstance(agent_field, forms.ChoiceField)
        agent_field.choices = [(name, name) for name, _ in agents]
        if not self.is_bound and agents:
            default = "planner" if "planner" in self.agent_descriptions else agents[0][0]
            self.initial.setdefault("agent", default)

    def clean_message(self) -> str:
        message: str = self.cleaned_data["message"]
        if not message.strip():
            raise forms.ValidationError("Describe the incident.")
        return message

    def clean_time_window(self) -> str:
        value: str = self.cleaned_data["time_window"].strip()
        if not value:
            return ""
        if not TIME_WINDOW_RE.match(value) or _window_length(value) > TIME_WINDOW_MAX:
            raise forms.ValidationError("Use a number and m, h or d, at most 30d (e.g. 15m, 1h, 24h).")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        attachments: list[dict[str, Any]] = []
        content = cleaned.get("paste_content") or ""
        if content.strip() and len(content.encode()) > ATTACHMENT_MAX_BYTES:
            self.add_error("paste_content", f"Pasted output is larger than {human_size(ATTACHMENT_MAX_BYTES)}.")
        elif content.strip():
            name = (cleaned.get("paste_name") or "").strip() or "pasted.txt"
            item: dict[str, Any] = {"name": name, "content": content}
            if (cleaned.get("paste_source") or "").strip():
                item["source"] = cleaned["paste_source"].strip()
            attachments.append(item)
        for upload in cleaned.get("uploads") or []:
            raw = upload.read(ATTACHMENT_MAX_BYTES + 1)
            if len(raw) > ATTACHMENT_MAX_BYTES:
                self.add_error("uploads", f"{upload.name} is larger than {human_size(ATTACHMENT_MAX_BYTES)}.")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("uploads", f"{upload.name} is not a UTF-8 text file.")
                continue
            attachments.append({"name": (upload.name or "upload.txt")[:255], "content": text})
        if len(attachments) > ATTACHMENTS_MAX_COUNT:
            self.add_error("uploads", f"At most {ATTACHMENTS_MAX_COUNT} attachments.")
        if sum(len(a["content"].encode()) for a in attachments) > ATTACHMENTS_TOTAL_MAX_BYTES:
            self.add_error(
                "uploads", f"Attachments are larger than {human_size(ATTACHMENTS_TOTAL_MAX_BYTES)} in total."
            )
        cleaned["attachments"] = attachments
        return cleaned

    def investigation_context(self) -> dict[str, str]:
        keys = ("service", "namespace", "environment", "severity", "time_window", "related_alert", "hint")
        return {key: self.cleaned_data[key].strip() for key in keys if self.cleaned_data.get(key, "").strip()}

    def agent_options(self) -> list[dict[str, Any]]:
        """Radio options with each agent's description, for the template."""
        return [
            {"name": name, "description": description, "id": f"id_agent_{index}"}
            for index, (name, description) in enumerate(self.agent_descriptions.items())
        ]


class HistoryFilterForm(forms.Form):
    """History filters from the query string. Invalid values are reported, not silently dropped."""

    q = forms.CharField(
        max_length=HISTORY_Q_MAX_CHARS,
        required=False,
        label="Search",
        help_text="Matches the message, root cause, affected systems, agent, id (inv_…) and trigger source.",
    )
    status = forms.MultipleChoiceField(required=False, choices=Status.choices, widget=forms.CheckboxSelectMultiple)
    agent = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, agents: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agent_field = self.fields["agent"]
        assert isinstance(agent_field, forms.ChoiceField)
        agent_field.choices = [("", "Any agent"), *((name, name) for name in agents)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "“To” must not be before “From”.")
        return cleaned

    def created_range(self) -> tuple[datetime | None, datetime | None]:
        """[since 00:00, the day after until 00:00) in the current time zone; dates are inclusive."""
        since: date | None = self.cleaned_data.get("since")
        until: date | None = self.cleaned_data.get("until")
        zone = timezone.get_current_timezone()
        start = datetime.combine(since, time.min, tzinfo=zone) if since else None
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone) if until else None
        return start, end
