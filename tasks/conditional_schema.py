"""A task's conditional requests in the OpenAPI document: the `If-Match`
request header and the `ETag` response header (docs/api.md, "Conditional
requests"). `If-None-Match` and the 304, which every GET has, are in
api/schema.py."""

from drf_spectacular.utils import OpenApiParameter

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="Write only if the task's current ETag is one of these (or `*`): otherwise 412 and nothing is "
    'written. Compared strongly: a weak tag (`W/"..."`) never matches.',
)


def etag_header(*codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=list(codes),
        description="The current entity tag of the answer (strong); the same value as the task's `etag` field.",
    )


LOCATION_HEADER = OpenApiParameter(
    "Location", str, OpenApiParameter.HEADER, response=[201], description="The new task's path, `/api/tasks/{id}`."
)
