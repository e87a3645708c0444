from rest_framework.renderers import JSONRenderer


class UTF8JSONRenderer(JSONRenderer):
    """JSON with the charset spelled out: `application/json; charset=utf-8`."""

    charset = "utf-8"
