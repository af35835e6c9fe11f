"""Console forms: YAML import, cluster edit (secrets write-only), task from discovered services."""

import re

from django import forms

from syncapp.importer import ConfigError
from syncapp.importer.loader import MAX_BYTES
from syncapp.importer.parse import decode_config
from syncapp.models import Cluster, SyncTask
from syncapp.secret_inputs import SecretsKeptWhenEmpty


class ImportForm(forms.Form):
    """A YAML text, pasted or uploaded (an uploaded file wins)."""

    # strip=False: leading blank lines count, so the line numbers of problems stay right.
    yaml = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 18}))
    file = forms.FileField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A NUL (or any character YAML refuses) is the importer's to report, with its line,
        # as for an uploaded file; Django's CharField would refuse it without one.
        self.fields["yaml"].validators = []

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            try:  # the importer's own limits and checks, as `import_config -f` applies them
                data["yaml"] = decode_config(upload.read(MAX_BYTES + 1))
            except ConfigError as exc:
                raise forms.ValidationError(f"the file: {exc}") from None
        if len(data.get("yaml", "")) > MAX_BYTES:
            raise forms.ValidationError(f"the text is larger than {MAX_BYTES // 1024} KiB")
        if not data.get("yaml", "").strip():
            raise forms.ValidationError("paste a YAML text or choose a file")
        return data


class ClusterForm(SecretsKeptWhenEmpty):
    connect_keys = forms.CharField(
        label="connectKeyList",
        help_text="host:port (or URL), one per line or comma separated",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Cluster
        fields = [
            "cluster_name",
            "cluster_type",
            "connect_keys",
            "namespaces",
            "user_name",
            "password",
            "ak",
            "sk",
        ]
        labels = {
            "cluster_name": "clusterName",
            "cluster_type": "clusterType",
            "namespaces": "namespace",
            "user_name": "userName",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One key per line, for a new cluster too (the model's default would show as "[]").
        self.initial["connect_keys"] = "\n".join(self.instance.connect_keys or [])

    def clean_connect_keys(self) -> list[str]:
        keys = [k for k in re.split(r"[\s,]+", self.cleaned_data["connect_keys"]) if k]
        if not keys:
            raise forms.ValidationError("at least one host:port")
        return keys


class NewTaskForm(forms.Form):
    """A Service task from one cluster, for all its services or a chosen few."""

    destination = forms.ModelChoiceField(queryset=Cluster.objects.none())
    mode = forms.ChoiceField(
        choices=[(m, m) for m in (SyncTask.UNIDIRECTIONAL, SyncTask.BIDIRECTIONAL)]
    )
    services = forms.MultipleChoiceField(required=False)
    scope = forms.ChoiceField(choices=[("all", "all services"), ("selected", "selected only")])

    def __init__(self, source: Cluster, discovered: list[str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.fields["destination"].queryset = Cluster.objects.exclude(pk=source.pk)
        self.fields["services"].choices = [(name, name) for name in discovered]

    def clean(self):
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("services"):
            raise forms.ValidationError("select at least one service, or take them all")
        destination = data.get("destination")
        taken = SyncTask.objects.filter(
            source=self.source, destination=destination, sync_type=SyncTask.SERVICE
        )
        if destination and taken.exists():
            raise forms.ValidationError(
                f"a Service task {self.source} -> {destination} exists already (task "
                f"{taken.first().pk}): one per pair; edit its serviceMatchPattern instead"
            )
        return data
