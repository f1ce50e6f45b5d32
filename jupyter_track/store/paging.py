"""Page tokens: opaque to callers, an offset inside."""

from __future__ import annotations

import base64
import json

from .errors import InvalidInput

MAX_OFFSET = 2**62


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset inside a token returned by a search; ``InvalidInput`` for anything else."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
            raise ValueError
        return offset
    except Exception as exc:
        raise InvalidInput(f"page_token {token!r}: not a token returned by a search") from exc
