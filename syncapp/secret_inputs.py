"""Cluster secrets in Django forms (console and admin): entered, never shown back."""

from django import forms

from syncapp.models import Cluster


def secret_field(label: str | None = None) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,  # a password is what was typed, spaces included
        # render_value=False: the stored secret never travels back to the browser.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current value.",
    )


class SecretsKeptWhenEmpty(forms.ModelForm):
    """A cluster form whose empty secret fields keep the stored values."""

    password = secret_field("password")
    ak = secret_field("ak")
    sk = secret_field("sk")

    def clean(self):
        data = super().clean()
        for secret in Cluster.SECRET_FIELDS:
            if not data.get(secret) and self.instance.pk:
                data[secret] = getattr(self.instance, secret)
        return data
