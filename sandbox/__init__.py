"""A stand-in for 1NCE: its management API, its SMS gateway, its forwarder.

Run `python -m sandbox` for a local 1NCE on http://127.0.0.1:8765 (API URL
`http://127.0.0.1:8765/management-api`, Client-ID `sandbox-client`, secret
`sandbox-secret`), or build one in-process with `create_app(SandboxConfig(...))`.
It never imports Home Assistant or the integration: it plays the other side.
"""

from .app import create_app
from .config import (
    API_PREFIX,
    CONTROL_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PLATFORM,
    DEFAULT_PORT,
    OWNER_CLIENT_ID,
    OWNER_CLIENT_SECRET,
    Faults,
    PlatformMode,
    SandboxConfig,
)
from .state import SANDBOX, Sandbox

__all__ = [
    "API_PREFIX",
    "CONTROL_PREFIX",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_PLATFORM",
    "DEFAULT_PORT",
    "OWNER_CLIENT_ID",
    "OWNER_CLIENT_SECRET",
    "SANDBOX",
    "Faults",
    "PlatformMode",
    "Sandbox",
    "SandboxConfig",
    "create_app",
]
