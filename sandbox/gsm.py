"""The little SMS arithmetic the gateway needs: alphabets, lengths and parts.

Deliberately independent of the integration's `api.sms`: the sandbox stands in
for 1NCE, and a contract check is worth nothing if both sides share the code
whose behaviour is being checked.
"""

from __future__ import annotations

from typing import Final

DCS_GSM7: Final = 0
DCS_BINARY: Final = 4
DCS_UCS2: Final = 8

_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
# Room in one SMS without a header, and in a part of a concatenated one (the
# six-octet concatenation header takes 7 septets, 3 UCS-2 characters).
SINGLE_ROOM: Final = {DCS_GSM7: 160, DCS_UCS2: 70, DCS_BINARY: 140}
PART_ROOM: Final = {DCS_GSM7: 153, DCS_UCS2: 67, DCS_BINARY: 134}


def is_gsm7(text: str) -> bool:
    """Whether a phone would send this text in the GSM 7-bit alphabet."""
    return all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text)


def _unit_costs(text: str, dcs: int) -> list[tuple[str, int]]:
    """Cut text into units that must stay whole, with what each costs.

    GSM 7-bit: one character, two septets for the extension table. UCS-2: one
    UTF-16 code unit, a surrogate pair kept together (two units).
    """
    if dcs == DCS_GSM7:
        return [(char, 2 if char in _GSM7_EXTENSION else 1) for char in text]
    return [(char, 2 if ord(char) > 0xFFFF else 1) for char in text]


def length(text: str, dcs: int) -> int:
    """Measure in septets (GSM 7-bit), UTF-16 units (UCS-2) or bytes (binary)."""
    if dcs == DCS_BINARY:
        return len(text) // 2
    return sum(cost for _, cost in _unit_costs(text, dcs))


def split(text: str, dcs: int) -> list[str]:
    """Split text the way a phone does before it sends a long SMS.

    One part when it fits in a single SMS, else parts of at most 153 septets
    or 67 UCS-2 units; an escaped character or a surrogate pair is never cut.
    """
    if length(text, dcs) <= SINGLE_ROOM[dcs]:
        return [text]
    room = PART_ROOM[dcs]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for unit, cost in _unit_costs(text, dcs):
        if used + cost > room:
            parts.append("".join(current))
            current, used = [], 0
        current.append(unit)
        used += cost
    parts.append("".join(current))
    return parts


def udh_length(udh: str | None) -> int:
    """Count the octets of a user data header (its hex includes the length)."""
    return len(udh) // 2 if udh else 0


def room_for(dcs: int, udh: str | None) -> int:
    """How much payload fits next to a header: septets, UCS-2 units or bytes."""
    header = udh_length(udh)
    if not header:
        return SINGLE_ROOM[dcs]
    if dcs == DCS_GSM7:
        return (140 - header) * 8 // 7
    if dcs == DCS_UCS2:
        return (140 - header) // 2
    return 140 - header


def ucs2_hex(text: str) -> str:
    """Hex-encode UTF-16-BE, one form a received UCS-2 payload takes."""
    return text.encode("utf-16-be").hex().upper()
