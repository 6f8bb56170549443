"""The HTTP Basic credential the Data Streamer sends: made per entry, checked here.

The streamer's address is the forwarder's secret address with another path,
and 1NCE sends the "Basic Auth Header" the customer pasted into its Portal on
every POST. Each entry gets a password of 192 random bits, kept in its data;
the user name is fixed. Whether 1NCE puts "Basic " in front is not
documented, so both forms are accepted, compared in constant time.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import Final

from ..const import STREAMER_USERNAME

_SCHEME: Final = "basic"


def new_streamer_password() -> str:
    """Return a fresh password: 192 random bits, URL-safe text."""
    return secrets.token_urlsafe(24)


def streamer_credential(password: str) -> str:
    """Return the Portal's "Basic Auth Header": base64 of `user:password`."""
    return base64.b64encode(f"{STREAMER_USERNAME}:{password}".encode()).decode()


def authorized(header: str | None, password: str) -> bool:
    """Whether an `Authorization` header carries the credential, with or without "Basic"."""
    if header is None:
        return False
    supplied = header.strip()
    scheme, _, rest = supplied.partition(" ")
    if scheme.lower() == _SCHEME and rest:
        supplied = rest.strip()
    return hmac.compare_digest(
        supplied.encode(), streamer_credential(password).encode()
    )
