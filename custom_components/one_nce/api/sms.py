"""Choose the alphabet for an SMS, split it into parts, and read received ones.

1NCE sends exactly the payload it is given: it neither picks an alphabet nor
splits long text, so a message longer than one SMS cannot go out as given. The
sender has to do what a phone does: use the GSM 7-bit alphabet
when every character is in it (160 characters an SMS), fall back to UCS-2
otherwise (70), and cut longer text into concatenated parts whose headers let
the handset put them back together. Going the other way, 1NCE forwards received
SMS with the sender's data coding scheme, which says whether the payload is
text at all.

The module is pure standard library so that it can be tested and published
without Home Assistant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
import math
import string
from typing import ClassVar
import unicodedata

DCS_GSM7 = 0
DCS_BINARY = 4
DCS_UCS2 = 8

# The GSM 03.38 / 3GPP TS 23.038 default alphabet in code order, so that the
# index of a character is its septet. 0x1B is the escape to the extension table,
# not a character anyone can type; it is removed from the set below.
_GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_GSM7_BASIC = frozenset(_GSM7_BASIC_TABLE) - {"\x1b"}
# Characters reached through the escape septet: each costs two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_HEX_DIGITS = frozenset(string.hexdigits)
# A concatenation header: UDHL 05, IEI 00 (8-bit reference), IEDL 03, then
# reference, total and part number. It is what takes 160/70/140 down to
# 153/67/134.
_CONCAT_UDH_PREFIX = "050003"
_CONCAT_UDH_BYTES = 6
_MAX_USER_DATA_BYTES = 140
_MAX_BYTE = 0xFF
# Control characters a person may really have typed into a UCS-2 message.
_TEXT_CONTROLS = frozenset("\n\r\t")
# Unicode categories that do not occur in text a person typed: controls,
# unassigned code points (incl. noncharacters) and private use.
_NOT_TEXT_CATEGORIES = frozenset({"Cc", "Cn", "Co"})


class Encoding(StrEnum):
    """How a message is put on the air; AUTO lets `choose_encoding` decide."""

    AUTO = "auto"
    GSM7 = "gsm7"
    UCS2 = "ucs2"
    BINARY = "binary"


_DCS_BY_ENCODING = {
    Encoding.GSM7: DCS_GSM7,
    Encoding.UCS2: DCS_UCS2,
    Encoding.BINARY: DCS_BINARY,
}


# Alphabet bits (3..2) of the general data coding groups; 11 is reserved.
_GENERAL_ALPHABETS = {0b00: Encoding.GSM7, 0b10: Encoding.UCS2}
# Message waiting indication groups: discard and store (7-bit), store (UCS-2).
# 1000..1011 are reserved and fall through to binary.
_GROUP_ALPHABETS = {
    0b1100: Encoding.GSM7,
    0b1101: Encoding.GSM7,
    0b1110: Encoding.UCS2,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsPart:
    """One POST to 1NCE's SMS endpoint.

    `payload` is text for GSM 7-bit and UCS-2 (1NCE encodes it) and uppercase
    hex for binary; `udh` is uppercase hex including its length byte, or None
    for a single SMS without header.
    """

    payload: str
    dcs: int
    udh: str | None
    part: int
    total: int


class SmsEncodingError(ValueError):
    """A message that cannot be sent as given.

    `code` is stable and machine-readable so that Home Assistant can pick a
    translation; `placeholders` fills that translation. The exception text is
    English for logs.
    """

    code: ClassVar[str] = "sms_encoding_error"

    @property
    def placeholders(self) -> dict[str, str]:
        """Values for the translated message; strings, as Home Assistant wants."""
        return {}


class EmptyMessageError(SmsEncodingError):
    """The message is the empty string.

    Only the empty string: a single space is a legal SMS, and whether that is
    useful is the sender's business.
    """

    code: ClassVar[str] = "empty_message"

    def __init__(self) -> None:
        """Give the fixed English text for logs."""
        super().__init__("The message is empty")


class MessageTooLongError(SmsEncodingError):
    """The message needs more SMS than the caller allows."""

    code: ClassVar[str] = "too_many_parts"

    def __init__(self, *, parts_needed: int, max_parts: int) -> None:
        """Keep both numbers so the user can see how far over the limit they are."""
        super().__init__(
            f"The message needs {parts_needed} SMS parts, at most {max_parts} allowed"
        )
        self.parts_needed = parts_needed
        self.max_parts = max_parts

    @property
    def placeholders(self) -> dict[str, str]:
        """Both counts, for a message like 'needs 5 SMS, 3 allowed'."""
        return {
            "parts_needed": str(self.parts_needed),
            "max_parts": str(self.max_parts),
        }


class TooLongForHeaderError(SmsEncodingError):
    """The message does not fit in the one SMS a caller's own header allows.

    A message with its own header is never split (the header would have to
    be rewritten per part), so the remedy is a shorter message, not more
    parts: `room` says how much fits, in the unit of `encoding` (septets for
    GSM 7-bit, UTF-16 code units for UCS-2, bytes for binary).
    """

    code: ClassVar[str] = "udh_message_too_long"

    def __init__(
        self, *, encoding: Encoding, header_bytes: int, room: int, needed: int
    ) -> None:
        """Keep what fits and what was asked, so the user can shorten by that."""
        super().__init__(
            f"A {header_bytes}-byte header leaves room for {room} units "
            f"({encoding.value}); the message needs {needed}"
        )
        self.encoding = encoding
        self.header_bytes = header_bytes
        self.room = room
        self.needed = needed

    @property
    def placeholders(self) -> dict[str, str]:
        """The header's size, the room left and what the message needs."""
        return {
            "header": str(self.header_bytes),
            "room": str(self.room),
            "needed": str(self.needed),
        }


class InvalidHexError(SmsEncodingError):
    """A binary payload or a user data header is not usable hex.

    For the header this includes well-formed hex that is not a header: a length
    byte that disagrees with the bytes that follow, or a header so long that no
    payload fits next to it.
    """

    code: ClassVar[str] = "invalid_hex"

    def __init__(self, *, field: str, reason: str) -> None:
        """Name the field ("payload" or "udh") so the user knows what to fix."""
        super().__init__(f"Invalid {field}: {reason}")
        self.field = field
        self.reason = reason

    @property
    def placeholders(self) -> dict[str, str]:
        """The field only; the English reason is not translatable."""
        return {"field": self.field}


class NotEncodableError(SmsEncodingError):
    """GSM 7-bit was forced on text with characters outside the GSM alphabet."""

    code: ClassVar[str] = "not_gsm7"

    def __init__(self, characters: str) -> None:
        """Keep the offending characters: the user has to replace exactly those."""
        super().__init__(
            f"Not in the GSM 7-bit alphabet: {_describe_characters(characters)}"
        )
        self.characters = characters

    @property
    def placeholders(self) -> dict[str, str]:
        """The offending characters, with invisible ones written as U+XXXX."""
        return {"characters": _describe_characters(self.characters)}


def _describe_characters(characters: str) -> str:
    """Make characters such as a tab visible in an error message."""
    return " ".join(
        char if char.isprintable() else f"U+{ord(char):04X}" for char in characters
    )


def _non_gsm7_characters(text: str) -> str:
    """Return each character outside the GSM alphabet once, in order of appearance."""
    return "".join(
        dict.fromkeys(
            char
            for char in text
            if char not in _GSM7_BASIC and char not in _GSM7_EXTENSION
        )
    )


def is_gsm7(text: str) -> bool:
    """Tell whether `text` can go out in the 7-bit alphabet (basic or extension)."""
    return all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text)


def gsm7_septets(text: str) -> int:
    """Count the septets `text` occupies, escape septets included.

    Extension characters such as `€` or `[` cost two septets, so a 160-character
    text can still need two SMS.
    """
    return sum(_gsm7_costs(text))


def _gsm7_costs(text: str) -> list[int]:
    """Return the septet cost of each character; refuse non-GSM characters."""
    costs: list[int] = []
    for char in text:
        if char in _GSM7_BASIC:
            costs.append(1)
        elif char in _GSM7_EXTENSION:
            costs.append(2)
        else:
            raise NotEncodableError(_non_gsm7_characters(text))
    return costs


def _ucs2_costs(text: str) -> list[int]:
    """Return the UTF-16 code units of each character.

    Characters outside the Basic Multilingual Plane (most emoji) take a
    surrogate pair, i.e. two of the 70 units, and the pair must stay together.
    """
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def choose_encoding(text: str) -> Encoding:
    """Pick GSM 7-bit whenever possible: it fits 160 characters instead of 70."""
    return Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2


def _room(encoding: Encoding, udh_bytes: int) -> int:
    """Return what one SMS holds next to a header of `udh_bytes` bytes.

    The 140 bytes of user data are shared with the header. In 7-bit mode the
    text after the header starts on a septet boundary, hence the rounding up.
    """
    if encoding is Encoding.GSM7:
        return _MAX_USER_DATA_BYTES * 8 // 7 - math.ceil(udh_bytes * 8 / 7)
    if encoding is Encoding.UCS2:
        return _MAX_USER_DATA_BYTES // 2 - math.ceil(udh_bytes / 2)
    return _MAX_USER_DATA_BYTES - udh_bytes


def _parse_hex(value: str, field: str) -> bytes:
    """Decode strict hex: no whitespace or prefixes, which 1NCE would not accept."""
    if not set(value) <= _HEX_DIGITS:
        raise InvalidHexError(field=field, reason="only hex digits are allowed")
    if len(value) % 2:
        raise InvalidHexError(field=field, reason="odd number of hex digits")
    return bytes.fromhex(value)


def _parse_udh(udh: str) -> bytes:
    """Validate a caller's header, which must start with its own length byte.

    1NCE's example `050003CC0301` includes the length byte (05), so that is
    what callers are expected to pass; a header without it would make the
    handset misread the whole message.
    """
    header = _parse_hex(udh, "udh")
    if header[0] != len(header) - 1:
        raise InvalidHexError(
            field="udh",
            reason=(
                f"the length byte says {header[0]} bytes follow, "
                f"but {len(header) - 1} do"
            ),
        )
    return header


def _units(text: str, encoding: Encoding) -> tuple[list[str], list[int]]:
    """Cut the message into indivisible pieces and what each costs.

    A piece is a character (an escape sequence and a surrogate pair are one
    character in Python) or, for binary, one byte as two hex digits.
    """
    if encoding is Encoding.BINARY:
        data = _parse_hex(text, "payload").hex().upper()
        pieces = [data[i : i + 2] for i in range(0, len(data), 2)]
        return pieces, [1] * len(pieces)
    costs = _gsm7_costs(text) if encoding is Encoding.GSM7 else _ucs2_costs(text)
    return list(text), costs


def _pack(costs: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """Fill parts greedily, moving a piece whole to the next part if it overflows."""
    bounds: list[tuple[int, int]] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > limit:
            bounds.append((start, index))
            start, used = index, 0
        used += cost
    bounds.append((start, len(costs)))
    return bounds


def split_message(
    text: str,
    *,
    encoding: Encoding = Encoding.AUTO,
    udh: str | None = None,
    reference: int,
    max_parts: int,
) -> list[SmsPart]:
    """Turn a message into the SMS that 1NCE must be sent, one POST each.

    The message goes out as a single SMS when it fits, else as concatenated
    parts sharing `reference`, so that the handset can reassemble them. For
    BINARY, `text` is the payload as hex.

    A caller-supplied `udh` (hex, including its length byte) means the caller
    does its own concatenation or addressing: the message is never split and
    must fit in one SMS next to that header. An empty `udh` counts as none,
    the way 1NCE itself reports SMS without a header.

    `reference` (0-255) should differ between messages in flight to the same
    SIM, or the handset may mix up their parts. `max_parts` (1-255) caps the
    cost of a single call; exceeding it raises MessageTooLongError.
    """
    if not 0 <= reference <= _MAX_BYTE:
        raise ValueError(f"reference must be 0..255, not {reference}")
    if not 1 <= max_parts <= _MAX_BYTE:
        raise ValueError(f"max_parts must be 1..255, not {max_parts}")
    if not text:
        raise EmptyMessageError
    encoding = Encoding(encoding)
    if encoding is Encoding.AUTO:
        encoding = choose_encoding(text)
    header = _parse_udh(udh) if udh else None
    pieces, costs = _units(text, encoding)
    dcs = _DCS_BY_ENCODING[encoding]
    total_cost = sum(costs)

    if header is not None:
        room = _room(encoding, len(header))
        if room < 1:
            raise InvalidHexError(
                field="udh",
                reason=f"a {len(header)}-byte header leaves no room for a payload",
            )
        if total_cost > room:
            raise TooLongForHeaderError(
                encoding=encoding,
                header_bytes=len(header),
                room=room,
                needed=total_cost,
            )
        return [
            SmsPart(
                payload="".join(pieces),
                dcs=dcs,
                udh=header.hex().upper(),
                part=1,
                total=1,
            )
        ]

    if total_cost <= _room(encoding, 0):
        return [SmsPart(payload="".join(pieces), dcs=dcs, udh=None, part=1, total=1)]

    bounds = _pack(costs, _room(encoding, _CONCAT_UDH_BYTES))
    total = len(bounds)
    if total > max_parts:
        raise MessageTooLongError(parts_needed=total, max_parts=max_parts)
    return [
        SmsPart(
            payload="".join(pieces[start:end]),
            dcs=dcs,
            udh=f"{_CONCAT_UDH_PREFIX}{reference:02X}{total:02X}{number:02X}",
            part=number,
            total=total,
        )
        for number, (start, end) in enumerate(bounds, start=1)
    ]


def encoding_for_dcs(dcs: int) -> Encoding:
    """Read the alphabet out of a data coding scheme (3GPP TS 23.038, clause 4).

    Never AUTO. Compressed data, reserved groups and reserved alphabets come
    back as BINARY: the spec would have a receiver assume GSM 7-bit for
    reserved values, but claiming that bytes are text when we cannot know is
    worse than handing them over untouched.
    """
    if not 0 <= dcs <= _MAX_BYTE:
        return Encoding.BINARY
    group = dcs >> 4
    if group <= 0b0111:
        # 00xx general data coding, 01xx the same marked for automatic
        # deletion: bit 5 says compressed, bits 3..2 give the alphabet.
        if dcs & 0b0010_0000:
            return Encoding.BINARY
        return _GENERAL_ALPHABETS.get((dcs >> 2) & 0b11, Encoding.BINARY)
    if group == 0b1111:
        # Data coding / message class: bit 2 chooses 8-bit data over 7-bit.
        return Encoding.BINARY if dcs & 0b0100 else Encoding.GSM7
    return _GROUP_ALPHABETS.get(group, Encoding.BINARY)


def decode_payload(payload: str, dcs: int) -> str | None:
    """Return the text of a received (MO) SMS, or None when it is binary.

    For GSM 7-bit 1NCE has already turned the septets into text. For UCS-2 it
    is not documented whether the forwarder posts the text or the hex of the
    UTF-16-BE bytes, so both are accepted: a payload that is only hex digits,
    a multiple of four long, and decodes to plausible text (no lone surrogates,
    no control characters other than newline, carriage return and tab, no
    unassigned or private-use code points) is taken to be hex.

    That guess is ambiguous by nature: someone who really texts "CAFE" in
    UCS-2 gets U+CAFE back. Such messages are rare (a phone only picks UCS-2
    for text it cannot send in 7-bit, and that text is seldom pure hex), and
    the raw payload stays available to whoever needs certainty.
    """
    encoding = encoding_for_dcs(dcs)
    if encoding is Encoding.BINARY:
        return None
    if encoding is Encoding.GSM7:
        return payload
    return _decode_ucs2(payload)


def decode_parts(parts: Sequence[tuple[str, int]]) -> str | None:
    """Return the text of a long SMS's parts, `(payload, dcs)` in order; None if binary.

    Parts are joined before decoding, as UCS-2 text may split a character
    across two parts; only parts of mixed coding are decoded one by one.
    """
    if len({dcs for _payload, dcs in parts}) == 1:
        return decode_payload("".join(payload for payload, _dcs in parts), parts[0][1])
    texts = [decode_payload(payload, dcs) for payload, dcs in parts]
    if any(text is None for text in texts):
        return None
    return "".join(text for text in texts if text is not None)


def _decode_ucs2(payload: str) -> str:
    """Decode hex UTF-16-BE if the payload looks like it, else keep it as text."""
    if not payload or len(payload) % 4 or not set(payload) <= _HEX_DIGITS:
        return payload
    try:
        text = bytes.fromhex(payload).decode("utf-16-be")
    except UnicodeDecodeError:
        return payload
    if any(
        unicodedata.category(char) in _NOT_TEXT_CATEGORIES
        and char not in _TEXT_CONTROLS
        for char in text
    ):
        return payload
    return text
