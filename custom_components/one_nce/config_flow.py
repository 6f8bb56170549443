"""Config flow for 1NCE: add an account, re-authenticate, reconfigure, tune polling.

Every path that stores credentials first proves them the way the integration will
use them: a token, then one SIM list call. A token alone proves little, because
1NCE also issues tokens to Owner logins that the API then refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import os
from typing import Any, Final

from yarl import URL

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.const import (
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    PERCENTAGE,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api import (
    DEFAULT_BASE_URL,
    OneNceAuthenticationError,
    OneNceConnectionError,
    OneNcePermissionError,
)
from .compat import OptionsFlowWithReload, vol
from .connection import create_client
from .const import (
    CONF_API_URL,
    CONF_DETAIL_INTERVAL,
    CONF_FORWARDER_SECRET,
    CONF_LIST_INTERVAL,
    CONF_MAX_SMS_PARTS,
    CONF_SMS_LOW_THRESHOLD,
    CONF_STREAMER_PASSWORD,
    DEFAULT_DETAIL_INTERVAL,
    DEFAULT_LIST_INTERVAL,
    DEFAULT_MAX_SMS_PARTS,
    DEFAULT_SMS_LOW_THRESHOLD,
    DOMAIN,
    LOGGER,
    MAX_DETAIL_INTERVAL,
    MAX_LIST_INTERVAL,
    MAX_SMS_PARTS_LIMIT,
    MIN_DETAIL_INTERVAL,
    MIN_LIST_INTERVAL,
)
from .receiving.address import forwarder_url_text, new_secret, streamer_url_text
from .receiving.credential import new_streamer_password, streamer_credential

PORTAL_URL: Final = "https://portal.1nce.com"
# Where the setup form's API URL starts when this is set: scripts/develop sets
# it to its sandbox. Unset, the form offers 1NCE's public API.
DEFAULT_API_URL_ENV: Final = "ONE_NCE_DEFAULT_API_URL"

# A collapsed form section, not Home Assistant's "advanced mode": that flag is
# deprecated from 2026.6 on and will be removed.
SECTION_ADVANCED: Final = "advanced"

# A person is waiting on the form: fail over to "cannot connect" within seconds
# rather than sitting out the client's full retry schedule.
_CHECK_TIMEOUT: Final = 15.0
_CHECK_ATTEMPTS: Final = 2

# Short Client-IDs (API user names) are shown whole; long generated ones only by
# their tail, which is enough to tell two accounts apart in the entry list.
_TITLE_ID_MAX: Final = 24
_TITLE_ID_TAIL: Final = 6

_DEFAULT_OPTIONS: Final[Mapping[str, int]] = {
    CONF_LIST_INTERVAL: DEFAULT_LIST_INTERVAL,
    CONF_DETAIL_INTERVAL: DEFAULT_DETAIL_INTERVAL,
    CONF_SMS_LOW_THRESHOLD: DEFAULT_SMS_LOW_THRESHOLD,
    CONF_MAX_SMS_PARTS: DEFAULT_MAX_SMS_PARTS,
}

_CLIENT_ID_SELECTOR: Final = TextSelector(TextSelectorConfig(autocomplete="username"))
_SECRET_SELECTOR: Final = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_URL_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def _whole_number(
    minimum: int, maximum: int, unit: str | None = None
) -> Callable[[Any], Any]:
    """Ask for a whole number in a box: these are typed, not dragged."""
    config = NumberSelectorConfig(
        min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return vol.All(NumberSelector(config), vol.Coerce(int))


_OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_LIST_INTERVAL): _whole_number(
            MIN_LIST_INTERVAL, MAX_LIST_INTERVAL, UnitOfTime.MINUTES
        ),
        vol.Required(CONF_DETAIL_INTERVAL): _whole_number(
            MIN_DETAIL_INTERVAL, MAX_DETAIL_INTERVAL, UnitOfTime.MINUTES
        ),
        vol.Required(CONF_SMS_LOW_THRESHOLD): _whole_number(1, 99, PERCENTAGE),
        vol.Required(CONF_MAX_SMS_PARTS): _whole_number(1, MAX_SMS_PARTS_LIMIT),
    }
)


def _credentials_schema(
    api_url: str, shown: Mapping[str, Any] | None = None, *, error: str | None = None
) -> vol.Schema:
    """Build the credential form, the API URL folded away for the few who need it.

    `api_url` is what an untouched section stands for: the public API for a new
    entry, the entry's own URL on reconfigure. The frontend fills a section from
    the section's own suggested value or default, never from the fields inside
    it, so the section itself carries the URL: its default for a fresh form, and
    what was entered (`shown`) when the form comes back with an error. It opens
    when its URL is what needs correcting or is not the default. The schema is
    built anew for every form because filling in suggested values changes a
    section's schema in place.
    """
    advanced = {CONF_API_URL: api_url}
    marker: dict[str, Any] = {"default": advanced}
    if shown is not None:
        marker["description"] = {"suggested_value": dict(shown)}
    expanded = error == "invalid_url" or (
        shown is not None and shown.get(CONF_API_URL, api_url) != api_url
    )
    return vol.Schema(
        {
            vol.Required(CONF_CLIENT_ID): _CLIENT_ID_SELECTOR,
            vol.Required(CONF_CLIENT_SECRET): _SECRET_SELECTOR,
            vol.Required(SECTION_ADVANCED, **marker): section(
                vol.Schema(
                    {vol.Optional(CONF_API_URL, default=api_url): _URL_SELECTOR}
                ),
                {"collapsed": not expanded},
            ),
        }
    )


def _entered_url(user_input: Mapping[str, Any], api_url: str) -> str | None:
    """Read the API URL a submitted form asks for; blank means the form's default."""
    entered = str(user_input[SECTION_ADVANCED].get(CONF_API_URL) or "").strip()
    return _normalized_url(entered or api_url)


def _default_api_url() -> str:
    """Return the API URL a new entry starts from: 1NCE's, unless the environment says."""
    return os.environ.get(DEFAULT_API_URL_ENV) or DEFAULT_BASE_URL


def _account_id(client_id: str) -> str:
    """Identify the account by its Client-ID: the token names no account."""
    return client_id.strip().lower()


def _entry_title(client_id: str) -> str:
    """Name the entry so that two 1NCE accounts can be told apart."""
    if len(client_id) > _TITLE_ID_MAX:
        client_id = f"…{client_id[-_TITLE_ID_TAIL:]}"
    return f"1NCE ({client_id})"


def _normalized_url(value: str) -> str | None:
    """Return the API URL without a trailing slash, or None if it is no web URL."""
    try:
        url = URL(value.strip())
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    return str(url).rstrip("/")


def _without_secret(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """Echo a form back for correction, but never send the secret to a browser."""
    return {
        key: value
        for key, value in (user_input or {}).items()
        if key != CONF_CLIENT_SECRET
    }


def _streamer_placeholders(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> dict[str, str]:
    """Return the Data Streamer's URL and Basic Auth Header for the Portal."""
    return {
        "streamer_url": streamer_url_text(hass, data),
        "streamer_credential": streamer_credential(
            str(data.get(CONF_STREAMER_PASSWORD, ""))
        ),
    }


class OneNceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one 1NCE account per Client-ID."""

    VERSION = 1
    MINOR_VERSION = 2

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OneNceOptionsFlow:
        """Offer the polling options of an existing account."""
        return OneNceOptionsFlow()

    async def _async_check_credentials(
        self, client_id: str, client_secret: str, api_url: str
    ) -> str | None:
        """Prove the credentials as the integration will use them; None if fine."""
        client = create_client(
            self.hass,
            client_id,
            client_secret,
            api_url,
            request_timeout=_CHECK_TIMEOUT,
            max_attempts=_CHECK_ATTEMPTS,
        )
        try:
            await client.async_authenticate()
            await client.async_get_sims_page(page=1, page_size=1)
        except OneNcePermissionError:
            return "no_api_permission"
        except OneNceAuthenticationError:
            return "invalid_auth"
        except OneNceConnectionError:
            return "cannot_connect"
        except Exception:
            LOGGER.exception("Unexpected error while checking 1NCE credentials")
            return "unknown"
        return None

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's API credentials and prove them."""
        errors: dict[str, str] = {}
        default_url = _default_api_url()
        if user_input is not None:
            client_id = user_input[CONF_CLIENT_ID].strip()
            await self.async_set_unique_id(_account_id(client_id))
            self._abort_if_unique_id_configured()
            api_url = _entered_url(user_input, default_url)
            if api_url is None:
                # On the form, not the field: the field sits in a folded section.
                errors["base"] = "invalid_url"
            elif error := await self._async_check_credentials(
                client_id, user_input[CONF_CLIENT_SECRET], api_url
            ):
                errors["base"] = error
            else:
                data = {
                    CONF_CLIENT_ID: client_id,
                    CONF_CLIENT_SECRET: user_input[CONF_CLIENT_SECRET],
                    CONF_API_URL: api_url,
                    CONF_FORWARDER_SECRET: new_secret(),
                    CONF_STREAMER_PASSWORD: new_streamer_password(),
                }
                return self.async_create_entry(
                    title=_entry_title(client_id),
                    data=data,
                    options=dict(_DEFAULT_OPTIONS),
                    # The last step shows what to paste into the 1NCE Portal.
                    description_placeholders={
                        "forwarder_url": forwarder_url_text(self.hass, data),
                        **_streamer_placeholders(self.hass, data),
                    },
                )
        shown = _without_secret(user_input)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema(
                    default_url,
                    shown.get(SECTION_ADVANCED),
                    error=errors.get("base"),
                ),
                shown,
            ),
            errors=errors,
            description_placeholders={"portal_url": PORTAL_URL},
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start over with a new secret when 1NCE refuses the stored one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the secret only: another Client-ID is another account."""
        entry = self._get_reauth_entry()
        client_id: str = entry.data[CONF_CLIENT_ID]
        errors: dict[str, str] = {}
        if user_input is not None:
            if error := await self._async_check_credentials(
                client_id,
                user_input[CONF_CLIENT_SECRET],
                entry.data.get(CONF_API_URL, DEFAULT_BASE_URL),
            ):
                errors["base"] = error
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={CONF_CLIENT_SECRET: user_input[CONF_CLIENT_SECRET]},
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {vol.Required(CONF_CLIENT_SECRET): _SECRET_SELECTOR}
            ),
            errors=errors,
            description_placeholders={
                "client_id": client_id,
                "portal_url": PORTAL_URL,
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the secret (or the API URL) of the same account."""
        entry = self._get_reconfigure_entry()
        current_url: str = entry.data.get(CONF_API_URL, DEFAULT_BASE_URL)
        errors: dict[str, str] = {}
        if user_input is not None:
            client_id = user_input[CONF_CLIENT_ID].strip()
            await self.async_set_unique_id(_account_id(client_id))
            self._abort_if_unique_id_mismatch(
                description_placeholders={"client_id": entry.data[CONF_CLIENT_ID]}
            )
            api_url = _entered_url(user_input, current_url)
            if api_url is None:
                # On the form, not the field: the field sits in a folded section.
                errors["base"] = "invalid_url"
            elif error := await self._async_check_credentials(
                client_id, user_input[CONF_CLIENT_SECRET], api_url
            ):
                errors["base"] = error
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_CLIENT_ID: client_id,
                        CONF_CLIENT_SECRET: user_input[CONF_CLIENT_SECRET],
                        CONF_API_URL: api_url,
                    },
                )
        suggested = _without_secret(user_input) or {
            CONF_CLIENT_ID: entry.data[CONF_CLIENT_ID],
            SECTION_ADVANCED: {CONF_API_URL: current_url},
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema(
                    current_url,
                    suggested.get(SECTION_ADVANCED),
                    error=errors.get("base"),
                ),
                suggested,
            ),
            errors=errors,
            description_placeholders={
                "portal_url": PORTAL_URL,
                "forwarder_url": forwarder_url_text(self.hass, entry.data),
                **_streamer_placeholders(self.hass, entry.data),
            },
        )


class OneNceOptionsFlow(OptionsFlowWithReload):
    """Tune how often 1NCE is asked and when SMS volume counts as low.

    Saving changed options reloads the entry, since the intervals are fixed
    when the coordinators are built: Home Assistant does it for this flow
    where the release can, else `compat.reload_on_new_options`.
    """

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the current options and refuse contradictory intervals."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_DETAIL_INTERVAL] < user_input[CONF_LIST_INTERVAL]:
                # Details would be fetched more often than the list that says
                # which SIMs exist: wasted calls against 1NCE's rate limit.
                errors[CONF_DETAIL_INTERVAL] = "detail_shorter_than_list"
            else:
                return self.async_create_entry(
                    data={**self.config_entry.options, **user_input}
                )
        suggested = user_input or {**_DEFAULT_OPTIONS, **self.config_entry.options}
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(_OPTIONS_SCHEMA, suggested),
            errors=errors,
        )
