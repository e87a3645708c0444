"""Conditional requests in the OpenAPI document: the `If-Match` and
`If-None-Match` request headers, the `ETag` response header, and the 304
answer (docs/api.md, "Conditional requests")."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="Write only if the task's current ETag is one of these (or `*`): otherwise 412 and nothing is "
    'written. Compared strongly: a weak tag (`W/"..."`) never matches.',
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer (or `*`): 304 with no body while it is still current.",
)


def etag_header(*codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=list(codes),
        description="The current entity tag of the answer (strong); the same value as the task's `etag` field.",
    )


NOT_MODIFIED = OpenApiResponse(description="Not modified: the `If-None-Match` ETag is current. No body.")
