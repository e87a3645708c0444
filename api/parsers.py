import json
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONParser(JSONParser):
    """RFC 8259 JSON (UTF-8, no NaN/Infinity) with errors that say "Malformed JSON".

    The size limit is Django's DATA_UPLOAD_MAX_MEMORY_SIZE (= API_MAX_BODY_BYTES),
    checked when DRF reads the body: after authentication, as the contract orders.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return json.loads(stream.read().decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError:
            raise ParseError("Malformed JSON: the body is not valid UTF-8.") from None
        except ValueError as error:
            raise ParseError(f"Malformed JSON: {error}") from None
        except RecursionError:
            raise ParseError("Malformed JSON: nested too deeply.") from None
