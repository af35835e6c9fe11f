"""Query parameters checked before they reach the database: a bad one is a 400, not a 500."""

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from syncapp.cockpit.phases import PHASES

# The largest id a 64-bit primary key holds; beyond it SQLite raises OverflowError.
MAX_ID = 2**63 - 1
MAX_LIMIT = 1000
MAX_OFFSET = 10**9


class ServiceFilter(serializers.Serializer):
    """`/api/services/?task=ID&search=TEXT`."""

    task = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    search = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PhaseFilter(serializers.Serializer):
    """`/api/tasks/ID/phases/?phase=NAME`: only the services in that migration phase."""

    phase = serializers.ChoiceField(choices=PHASES, required=False)


def checked(params_serializer, query_params) -> dict:
    """The parameters the serializer knows, validated; ValidationError (400) otherwise."""
    known = {k: query_params[k] for k in params_serializer().fields if k in query_params}
    params = params_serializer(data=known)
    params.is_valid(raise_exception=True)
    return params.validated_data


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """limit 1-1000 and offset 0-10^9, or a 400 naming the parameter (DRF would ignore a
    bad value, and pass a huge one to the database)."""

    max_limit = MAX_LIMIT

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return _whole_number(raw, self.limit_query_param, 1, MAX_LIMIT)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return _whole_number(raw, self.offset_query_param, 0, MAX_OFFSET)


def _whole_number(raw: str, name: str, low: int, high: int) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
        raise ValidationError({name: [f"must be a whole number from {low} to {high}"]})
    return int(raw)
