"""Forms of the schedules page: a schedule, the run policy (retries, freshness) and an alert
channel."""

from __future__ import annotations

from django import forms

from studio import models
from studio.forms.runs import mode_field, range_field


class ScheduleForm(forms.Form):
    cron = forms.CharField(
        max_length=200,
        label="When (cron)",
        help_text="minute hour day-of-month month day-of-week, e.g. */15 * * * * or 0 6 * * 1-5",
        widget=forms.TextInput(attrs={"placeholder": "0 6 * * 1-5", "class": "mono", "autocomplete": "off"}),
    )
    timezone = forms.CharField(
        max_length=64, initial="UTC", label="Time zone", widget=forms.TextInput(attrs={"list": "timezones"})
    )
    streams = forms.CharField(
        required=False,
        label="Streams",
        help_text="one per line; empty: the whole replication",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"}),
    )
    mode = mode_field()
    range = range_field(
        help_text="sling's --range for backfill mode: start,end (dates or numbers); empty: none"
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def stream_names(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["streams"].splitlines() if line.strip()]


class PolicyForm(forms.Form):
    retries = forms.IntegerField(
        min_value=0, max_value=10, initial=0, help_text="new attempts after a failed run (0 to 10)"
    )
    retry_backoff = forms.IntegerField(
        min_value=1,
        max_value=6 * 3600,
        initial=60,
        label="Backoff (s)",
        help_text="before the first retry; doubled for each next one",
    )
    freshness_minutes = forms.IntegerField(
        required=False,
        min_value=1,
        label="Freshness (min)",
        help_text="stale after this long without a success (a stream's meta.dagster.freshness_policy wins)",
    )
    # Not sent (a form from before it): left as it is.
    schema_changes = forms.ChoiceField(
        required=False,
        choices=[("warn", "warn"), ("refuse", "refuse the run")],
        initial="warn",
        label="Schema changes",
        help_text="when a stream no longer sends a column of its table, or changes its type (as last read)",
    )
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ChannelForm(forms.Form):
    webhook = forms.CharField(
        required=False,
        max_length=2000,
        label="Webhook URL",
        help_text="JSON POST with a Slack-style text field",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
    )
    email = forms.CharField(required=False, max_length=254, label="Email", widget=forms.EmailInput)
    # The model's events, each shown as its value (the model's labels are capitalized).
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in models.AlertChannel.Event.values],
        initial=[models.AlertChannel.Event.FAILURE, models.AlertChannel.Event.RECOVERY],
        widget=forms.CheckboxSelectMultiple,
        label="On",
    )
    scope = forms.ChoiceField(
        choices=[("replication", "this replication"), ("all", "every replication")],
        initial="replication",
        label="For",
    )
