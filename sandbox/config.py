"""What a sandbox is started with, and what tests may change while it runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any, Final

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
DEFAULT_CLIENT_ID: Final = "sandbox-client"
DEFAULT_CLIENT_SECRET: Final = "sandbox-secret"
# 1NCE also issues tokens to Owner logins, which the API then refuses with 401;
# these credentials behave that way, to exercise "no API permission".
OWNER_CLIENT_ID: Final = "sandbox-owner"
OWNER_CLIENT_SECRET: Final = "sandbox-owner-secret"
DEFAULT_ORGANISATION_ID: Final = 4567
API_PREFIX: Final = "/management-api"
CONTROL_PREFIX: Final = "/_sandbox"


class PlatformMode(StrEnum):
    """Which 1NCE platform the account's SIMs are on (`--platform`).

    1NCE retires Platform 1.0 (and its v1 API) at the end of 2026; SIMs
    shipped since October 2026 are Platform 2.0 SIMs, so an account can hold
    both kinds for a while.
    """

    ONE = "1"
    """Platform 1.0, as before: v1 answers, small SMS ids, the old pushes."""
    TWO = "2"
    """Platform 2.0: v1 answers 404, 18-digit SMS ids, the new push shapes."""
    HYBRID = "hybrid"
    """The first half of the fleet on Platform 1.0, the rest on 2.0."""

    def platform_of(self, index: int, count: int) -> int:
        """Tell the platform (1 or 2) of the `index`th SIM (from 1) of `count`."""
        if self is PlatformMode.HYBRID:
            return 1 if index <= count // 2 else 2
        return 1 if self is PlatformMode.ONE else 2


DEFAULT_PLATFORM: Final = PlatformMode.TWO
"""What `python -m sandbox`, scripts/develop, the browser and e2e legs run."""


@dataclass(slots=True, kw_only=True)
class Faults:
    """Misbehaviour switched on at run time (control API `/_sandbox/faults`).

    Everything defaults to a well-behaved 1NCE except the rate limit, which the
    live API enforces too.
    """

    error_rate: float = 0.0
    """Share of API requests (0..1) answered with `error_status` instead."""
    fail_next: int = 0
    """The next this-many API requests fail; deterministic, for tests."""
    error_status: int = 503
    error_html: bool = True
    """Fail with the gateway's HTML page (observed) rather than JSON."""
    latency: float = 0.0
    """Seconds added before every API answer."""
    token_lifetime: float = 3600.0
    """`expires_in` of tokens issued from now on."""
    revoked: bool = False
    """The credentials were revoked: no new tokens, issued ones answer 401."""
    rate_limit: int = 10
    """Requests per second per customer on /v1 and /v2; 0 turns it off."""
    v1_available: bool = True
    """False plays the announced retirement of v1: its paths answer 404."""
    sms_create_v1: bool = False
    """Answer an SMS POST as v1 does: 201, empty body, id in `Location`."""
    string_numbers: bool = False
    """Send the forwarder's numbers as strings (`"dcs": "0"`), as observed."""

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a JSON object of changes; unknown keys and bad types raise."""
        types = {item.name: item.type for item in fields(self)}
        for key, value in changes.items():
            if key not in types:
                raise ValueError(f"unknown fault {key!r}")
            kind = types[key]
            if kind in ("bool", bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
            elif kind in ("int", int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{key} must be a whole number >= 0")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} must be a number")
            elif value < 0 or (key == "error_rate" and value > 1):
                raise ValueError(f"{key} is out of range")
        for key, value in changes.items():
            setattr(
                self, key, float(value) if types[key] in ("float", float) else value
            )

    def as_dict(self) -> dict[str, Any]:
        """Return the faults as JSON."""
        return asdict(self)


@dataclass(slots=True, kw_only=True)
class SandboxConfig:
    """How the sandbox starts; `create_app` and `python -m sandbox` take one."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    organisation_id: int = DEFAULT_ORGANISATION_ID
    sims: int = 6
    """Fleet size; the first six SIMs are the varied examples, see fleet.py."""
    platform: PlatformMode = PlatformMode.ONE
    """1.0, 2.0 or a hybrid account; see PlatformMode.

    `python -m sandbox` and the scripts start Platform 2.0 (`DEFAULT_PLATFORM`).
    Built in-process, a sandbox stays on Platform 1.0 unless told, for the
    tests written before Platform 2.0 whose receiving side keys delivery
    reports by `id` (tests/test_blueprints.py's wake cases): a test that means
    Platform 2.0 says so.
    """
    seed: int = 1
    """Seed for everything random (extra SIMs, usage history, error rate)."""
    delivery_delay: float = 2.0
    """Seconds an MT SMS stays PENDING before its outcome; 0 in tests."""
    forwarder_url: str | None = None
    """Where MO SMS and delivery reports are pushed; held until one is set."""
    retry_initial: float = 5.0
    """First gap between forwarder retries; each next gap doubles."""
    retry_max_gap: float = 3600.0
    retry_give_up: float = 24 * 3600.0
    """1NCE drops a message it could not push for this long."""
    forwarder_timeout: float = 10.0
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        """Also take the platform as typed on a command line: `"1"`, `"hybrid"`."""
        self.platform = PlatformMode(str(self.platform).lower())
