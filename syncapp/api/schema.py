"""The OpenAPI schema names the error answers too: 400, 401/403, 404, 409."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

ERROR_BODY = {
    "type": "object",
    "description": "`detail` (a message), or one list of messages per field at fault",
    "additionalProperties": True,
}


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_BODY, description=description)


class ErrorsAutoSchema(AutoSchema):
    """drf-spectacular's schema with each operation's error answers added."""

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code, description in self._errors().items():
            bodies.setdefault(code, self._get_response_for_code(_error(description), code))
        return bodies

    def _errors(self) -> dict[str, str]:
        errors = {
            "401": "not authenticated",
            "403": "the user's role does not allow this",
        }
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            errors["400"] = "a field or query parameter is invalid; the body says which"
        if "{id}" in self.path or "{pk}" in self.path:
            errors["404"] = "no such object"
        errors.update(getattr(self.view, "extra_errors", {}).get(self.method, {}))
        return errors
