"""Selects: the organisation's monthly limits of MT SMS, MO SMS and data.

They sit on the account device: a limit caps all SIMs together and resets on
the 1st of the month. Each offers what 1NCE offers, plus "no_limit" where
1NCE offers lifting the limit or none is set. Without 1NCE's v1 API there are
no limits to show, and no entities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Limit, Limits, LimitService, OneNceError, OneNceInvalidRequestError
from .const import DOMAIN
from .coordinator import OneNceConfigEntry
from .entity import account_device_info
from .limits import LimitsCoordinator, LimitsState

# One change at a time: each rewrites the organisation's limits at 1NCE.
PARALLEL_UPDATES = 1

NO_LIMIT: Final = "no_limit"


@dataclass(frozen=True, kw_only=True)
class OneNceLimitSelectEntityDescription(SelectEntityDescription):
    """One of the organisation's monthly limits."""

    service: LimitService
    value_fn: Callable[[Limits], Limit | None]


LIMIT_SELECTS: tuple[OneNceLimitSelectEntityDescription, ...] = (
    OneNceLimitSelectEntityDescription(
        key="sms_mt_limit",
        entity_category=EntityCategory.CONFIG,
        service=LimitService.SMS_MT,
        value_fn=lambda limits: limits.sms_mt,
    ),
    OneNceLimitSelectEntityDescription(
        key="sms_mo_limit",
        entity_category=EntityCategory.CONFIG,
        service=LimitService.SMS_MO,
        value_fn=lambda limits: limits.sms_mo,
    ),
    OneNceLimitSelectEntityDescription(
        key="data_limit",
        entity_category=EntityCategory.CONFIG,
        service=LimitService.DATA,
        value_fn=lambda limits: limits.data,
    ),
)


# 1NCE states data limits in MB; shown in the largest unit that keeps them whole.
_DATA_UNITS: Final = ("MB", "GB", "TB")
_DATA_STEP: Final = 1024


def option_name(limit: Limit | None) -> str:
    """Name a limit as one reads it ("10 SMS", "50 MB", "1 GB"), or "no_limit"."""
    if limit is None or limit.unlimited:
        return NO_LIMIT
    if not limit.unit:
        return f"{limit.limit}"
    value, unit = limit.limit, limit.unit
    if unit in _DATA_UNITS and value is not None and value.isdigit():
        amount, index = int(value), _DATA_UNITS.index(unit)
        while (
            amount >= _DATA_STEP
            and amount % _DATA_STEP == 0
            and index < len(_DATA_UNITS) - 1
        ):
            amount, index = amount // _DATA_STEP, index + 1
        value, unit = str(amount), _DATA_UNITS[index]
    return f"{value} {unit}"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Read the limits and their options once; add the selects if 1NCE has them.

    The limits are only read here, not at the entry's setup, so that an
    installation without this platform sends nothing for them.
    """
    limits = entry.runtime_data.limits
    await limits.async_refresh()
    if not limits.supported:
        return
    async_add_entities(
        OneNceLimitSelect(entry, limits, description) for description in LIMIT_SELECTS
    )


class OneNceLimitSelect(CoordinatorEntity[LimitsCoordinator], SelectEntity):
    """A monthly limit of the organisation, chosen from 1NCE's options."""

    _attr_has_entity_name = True
    entity_description: OneNceLimitSelectEntityDescription

    def __init__(
        self,
        entry: OneNceConfigEntry,
        coordinator: LimitsCoordinator,
        description: OneNceLimitSelectEntityDescription,
    ) -> None:
        """Attach to the account device: the limit is the whole account's."""
        super().__init__(coordinator)
        self.entry = entry
        self.entity_description = description
        self._attr_translation_key = description.key
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = account_device_info(entry)

    @property
    def available(self) -> bool:
        """Unavailable once 1NCE stops offering limits, or while they fail."""
        return super().available and self.coordinator.supported

    @property
    def _state(self) -> LimitsState | None:
        """The limits and options; None until they were first read."""
        return self.coordinator.data

    def _choices(self) -> dict[str, Limit | None]:
        """Each option's name, with the limit it stands for, in 1NCE's order.

        The limit in force is always among them, even should 1NCE no longer
        offer it, so that the state never reads as unknown.
        """
        if (state := self._state) is None:
            return {}
        choices: dict[str, Limit | None] = {}
        for limit in state.options.get(self.entity_description.service, []):
            choices.setdefault(option_name(limit), limit)
        current = self.entity_description.value_fn(state.current)
        choices.setdefault(self._current_name(state), current)
        return choices

    def _current_name(self, state: LimitsState) -> str:
        """Name the limit in force as its option, which its id identifies.

        The limit in force may be described in other words than its option
        (no unit, say); the id is what both share.
        """
        current = self.entity_description.value_fn(state.current)
        for limit in state.options.get(self.entity_description.service, []):
            if current is not None and limit.limit_id == current.limit_id:
                return option_name(limit)
        return option_name(current)

    @property
    def options(self) -> list[str]:
        """What 1NCE offers for this limit."""
        return list(self._choices())

    @property
    def current_option(self) -> str | None:
        """The limit in force; unknown until the limits were first read."""
        return None if (state := self._state) is None else self._current_name(state)

    async def async_select_option(self, option: str) -> None:
        """Set the limit at 1NCE, keep the other two as they are, then reread."""
        chosen = self._choices()[option]
        # Only the limit in force can lack an option id (no limit is set and
        # 1NCE offers none to choose): choosing it changes nothing.
        if chosen is None or option == self.current_option:
            return
        ids = {
            select.service: limit.limit_id
            for select in LIMIT_SELECTS
            if (limit := select.value_fn(self.coordinator.data.current)) is not None
        }
        ids[self.entity_description.service] = chosen.limit_id
        try:
            await self.coordinator.client.async_set_limits(
                data_limit_id=ids.get(LimitService.DATA),
                sms_mt_limit_id=ids.get(LimitService.SMS_MT),
                sms_mo_limit_id=ids.get(LimitService.SMS_MO),
            )
        except OneNceInvalidRequestError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="limit_refused",
                translation_placeholders={"option": option, "error": err.message},
            ) from err
        except OneNceError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="limit_update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        await self.coordinator.async_refresh()
