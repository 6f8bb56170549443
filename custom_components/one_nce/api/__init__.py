"""An async client for the 1NCE management API (SIMs, quotas, SMS).

It has no dependency but aiohttp, takes the session it should use, and raises only
the exceptions of `exceptions.py`.
"""

from .client import DEFAULT_BASE_URL, MAX_PAGE_SIZE, OneNceClient
from .exceptions import (
    OneNceAuthenticationError,
    OneNceConnectionError,
    OneNceError,
    OneNceFeatureUnavailableError,
    OneNceInvalidRequestError,
    OneNceNotFoundError,
    OneNcePermissionError,
    OneNceRateLimitError,
    OneNceResponseError,
)
from .models import (
    Connectivity,
    ConnectivityStatus,
    CreatedSms,
    Limit,
    Limits,
    LimitService,
    Quota,
    QuotaLevel,
    QuotaStatus,
    Sim,
    SimEvent,
    SimPage,
    Sms,
    SmsDirection,
    TokenInfo,
    Usage,
    UsageDay,
)
from .ratelimit import RateLimiter

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PAGE_SIZE",
    "Connectivity",
    "ConnectivityStatus",
    "CreatedSms",
    "Limit",
    "LimitService",
    "Limits",
    "OneNceAuthenticationError",
    "OneNceClient",
    "OneNceConnectionError",
    "OneNceError",
    "OneNceFeatureUnavailableError",
    "OneNceInvalidRequestError",
    "OneNceNotFoundError",
    "OneNcePermissionError",
    "OneNceRateLimitError",
    "OneNceResponseError",
    "Quota",
    "QuotaLevel",
    "QuotaStatus",
    "RateLimiter",
    "Sim",
    "SimEvent",
    "SimPage",
    "Sms",
    "SmsDirection",
    "TokenInfo",
    "Usage",
    "UsageDay",
]
