"""Exceptions raised by the 1NCE client.

Callers decide what to do from the class alone: re-authenticate, wait, give up on a
single SIM, or show 1NCE's own message to a person. No caller should need to look
at HTTP status codes.
"""

from __future__ import annotations


class OneNceError(Exception):
    """Base class of every error this client raises."""


class OneNceConnectionError(OneNceError):
    """1NCE could not be reached or kept answering with errors after retries."""


class OneNceResponseError(OneNceConnectionError):
    """1NCE answered 2xx with a body this client cannot make sense of.

    A subclass of the connection error because, to a caller, a garbled answer is
    as useless as no answer: retry later. It is kept apart so that logs can tell
    a schema change from an outage.
    """


class OneNceAuthenticationError(OneNceError):
    """The credentials were refused by the token endpoint."""


class OneNcePermissionError(OneNceAuthenticationError):
    """A token was issued, but the API refuses to serve it.

    This is what 1NCE does for credentials without API access (e.g. an Owner
    login instead of an API user or Client-ID).
    """


class OneNceRateLimitError(OneNceConnectionError):
    """1NCE asked to slow down for longer than a call will wait, or kept asking.

    Raised by the call that got the 429, and by every other call while the
    pause 1NCE asked for has longer to run than a call waits (nothing is sent
    meanwhile). `retry_after` says how long until asking again makes sense.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep how long 1NCE asked us to wait, so schedulers can stretch."""
        super().__init__(message)
        self.retry_after = retry_after


class OneNceNotFoundError(OneNceError):
    """The SIM or SMS does not exist in this account."""


class OneNceFeatureUnavailableError(OneNceError):
    """The endpoint is gone (e.g. a retired v1 call), not merely failing."""


class OneNceInvalidRequestError(OneNceError):
    """1NCE refused the request as invalid; `message` is 1NCE's own words."""

    def __init__(self, message: str, status: int) -> None:
        """Keep 1NCE's message verbatim: it is what a person needs to read."""
        super().__init__(message)
        self.message = message
        self.status = status
