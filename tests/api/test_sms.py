"""Tests for the SMS codec: alphabet choice, splitting, headers and decoding."""

from __future__ import annotations

import itertools
import random

import pytest

from custom_components.one_nce.api.sms import (
    DCS_BINARY,
    DCS_GSM7,
    DCS_UCS2,
    EmptyMessageError,
    Encoding,
    InvalidHexError,
    MessageTooLongError,
    NotEncodableError,
    SmsEncodingError,
    SmsPart,
    TooLongForHeaderError,
    choose_encoding,
    decode_parts,
    decode_payload,
    encoding_for_dcs,
    gsm7_septets,
    is_gsm7,
    split_message,
)

# The GSM 03.38 default alphabet as Unicode code points (Unicode's GSM0338.TXT,
# with 0x09 as the capital C cedilla of 3GPP TS 23.038), transcribed
# independently of the module's table so that a typo in either shows up.
GSM7_BASIC_CODE_POINTS = (
    *(0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8),
    *(0xF8, 0x0D, 0xC5, 0xE5, 0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0),
    *(0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF, 0xC9),
    *range(0x20, 0x24),
    0xA4,
    *range(0x25, 0x40),
    0xA1,
    *range(0x41, 0x5B),
    *(0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF),
    *range(0x61, 0x7B),
    *(0xE4, 0xF6, 0xF1, 0xFC, 0xE0),
)
GSM7_BASIC = "".join(map(chr, GSM7_BASIC_CODE_POINTS))
GSM7_EXTENSION = "\f^{}\\[~]|€"


def _split(text: str, **kwargs: object) -> list[SmsPart]:
    """Split with a fixed reference and a generous part cap unless overridden."""
    options: dict[str, object] = {"reference": 0x2A, "max_parts": 10} | kwargs
    return split_message(text, **options)  # type: ignore[arg-type]


# --- alphabet -----------------------------------------------------------------


def test_basic_alphabet_has_the_127_characters_of_gsm_03_38() -> None:
    assert len(set(GSM7_BASIC)) == 127
    assert is_gsm7(GSM7_BASIC)
    assert gsm7_septets(GSM7_BASIC) == 127


@pytest.mark.parametrize("char", list(GSM7_EXTENSION))
def test_extension_characters_are_gsm7_but_cost_two_septets(char: str) -> None:
    assert is_gsm7(char)
    assert gsm7_septets(char) == 2


def test_no_other_character_of_the_first_planes_counts_as_gsm7() -> None:
    allowed = set(GSM7_BASIC) | set(GSM7_EXTENSION)
    wrongly_accepted = [
        f"U+{code:04X}"
        for code in range(0x3000)
        if (chr(code) in allowed) != is_gsm7(chr(code))
    ]
    assert wrongly_accepted == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Hello, world! 123 @home $5 #1", Encoding.GSM7, id="ascii"),
        pytest.param("Preis: 5 €", Encoding.GSM7, id="euro"),
        pytest.param("[1] {a} ~b | c \\ d ^", Encoding.GSM7, id="extension"),
        pytest.param("Grüße aus Köln, Ørsted, ¿qué?", Encoding.GSM7, id="accented"),
        pytest.param("ΔΦΓΛΩΠΨΣΘΞ", Encoding.GSM7, id="greek-capitals"),
        pytest.param("Ça va", Encoding.GSM7, id="capital-c-cedilla"),
        pytest.param("ça va", Encoding.UCS2, id="small-c-cedilla"),
        pytest.param("run `ls`", Encoding.UCS2, id="backtick"),
        pytest.param("Привет", Encoding.UCS2, id="cyrillic"),
        pytest.param("ok 😀", Encoding.UCS2, id="emoji"),
        pytest.param("it\u2019s", Encoding.UCS2, id="curly-apostrophe"),
        pytest.param("a\tb", Encoding.UCS2, id="tab"),
        pytest.param("cafe\u0301", Encoding.UCS2, id="e-acute-decomposed"),
        pytest.param("á", Encoding.UCS2, id="a-acute"),
    ],
)
def test_auto_picks_gsm7_only_when_every_character_fits(
    text: str, expected: Encoding
) -> None:
    assert choose_encoding(text) is expected
    assert _split(text)[0].dcs == (DCS_GSM7 if expected is Encoding.GSM7 else DCS_UCS2)


def test_septets_count_escape_sequences() -> None:
    assert gsm7_septets("abc") == 3
    assert gsm7_septets("[x]") == 5
    assert gsm7_septets("10 €") == 5
    assert gsm7_septets("") == 0


def test_septet_count_of_non_gsm_text_names_the_offending_characters() -> None:
    with pytest.raises(NotEncodableError) as err:
        gsm7_septets("ça `x` ça")
    assert err.value.characters == "ç`"


# --- single SMS and GSM 7-bit splitting ----------------------------------------


def test_short_text_is_one_sms_without_header() -> None:
    assert _split("Hello") == [
        SmsPart(payload="Hello", dcs=DCS_GSM7, udh=None, part=1, total=1)
    ]


def test_whitespace_only_text_is_a_legal_sms() -> None:
    assert _split(" ")[0].payload == " "


def test_160_septets_fit_one_sms() -> None:
    parts = _split("a" * 160)
    assert [(p.payload, p.udh) for p in parts] == [("a" * 160, None)]


def test_161_septets_become_153_plus_8() -> None:
    parts = _split("a" * 161, reference=0xCC)
    assert [len(p.payload) for p in parts] == [153, 8]
    assert [p.udh for p in parts] == ["050003CC0201", "050003CC0202"]
    assert [(p.part, p.total, p.dcs) for p in parts] == [(1, 2, 0), (2, 2, 0)]


def test_80_euro_signs_fill_one_sms_and_81_need_two() -> None:
    assert len(_split("€" * 80)) == 1
    parts = _split("€" * 81)
    assert [p.payload for p in parts] == ["€" * 76, "€" * 5]


def test_extension_character_at_septet_153_moves_whole_to_next_part() -> None:
    text = "a" * 152 + "€" + "b" * 10
    parts = _split(text)
    assert parts[0].payload == "a" * 152
    assert parts[1].payload == "€" + "b" * 10


def test_extension_character_ending_exactly_at_septet_153_stays() -> None:
    text = "a" * 151 + "€" + "b" * 10
    parts = _split(text)
    assert parts[0].payload == "a" * 151 + "€"
    assert parts[1].payload == "b" * 10


@pytest.mark.parametrize(
    ("reference", "expected"), [(0, "050003000201"), (255, "050003FF0201")]
)
def test_reference_is_written_as_one_uppercase_hex_byte(
    reference: int, expected: str
) -> None:
    assert _split("a" * 161, reference=reference)[0].udh == expected


def test_part_numbers_count_up_in_the_header() -> None:
    parts = _split("x" * (153 * 11 + 1), reference=0x07, max_parts=12)
    assert [p.udh for p in parts] == [f"05000307{12:02X}{n:02X}" for n in range(1, 13)]
    assert parts[-1].udh == "050003070C0C"


# --- UCS-2 --------------------------------------------------------------------


def test_70_ucs2_characters_fit_one_sms_and_71_need_67_plus_4() -> None:
    assert [p.udh for p in _split("ж" * 70)] == [None]
    parts = _split("ж" * 71)
    assert [len(p.payload) for p in parts] == [67, 4]
    assert {p.dcs for p in parts} == {DCS_UCS2}


def test_emoji_count_as_two_code_units() -> None:
    assert len(_split("😀" * 35)) == 1
    parts = _split("😀" * 36)
    assert [p.payload for p in parts] == ["😀" * 33, "😀" * 3]


def test_emoji_straddling_unit_67_moves_whole_to_next_part() -> None:
    parts = _split("ж" * 66 + "😀" + "ж" * 10)
    assert parts[0].payload == "ж" * 66
    assert parts[1].payload == "😀" + "ж" * 10


def test_forced_ucs2_applies_to_plain_ascii() -> None:
    parts = _split("a" * 71, encoding=Encoding.UCS2)
    assert [(len(p.payload), p.dcs) for p in parts] == [(67, DCS_UCS2), (4, DCS_UCS2)]


def test_encoding_may_be_given_as_its_string_value() -> None:
    assert _split("abc", encoding="ucs2")[0].dcs == DCS_UCS2


# --- forced GSM 7-bit ---------------------------------------------------------


def test_forced_gsm7_refuses_characters_outside_the_alphabet() -> None:
    with pytest.raises(NotEncodableError) as err:
        _split("façade\tok", encoding=Encoding.GSM7)
    assert err.value.code == "not_gsm7"
    assert err.value.characters == "ç\t"
    assert err.value.placeholders == {"characters": "ç U+0009"}
    assert isinstance(err.value, SmsEncodingError)
    assert isinstance(err.value, ValueError)


def test_forced_gsm7_accepts_gsm_text() -> None:
    assert _split("[ok]", encoding=Encoding.GSM7)[0].dcs == DCS_GSM7


# --- binary -------------------------------------------------------------------


def test_140_bytes_fit_one_binary_sms() -> None:
    parts = _split("ab" * 140, encoding=Encoding.BINARY)
    assert parts == [
        SmsPart(payload="AB" * 140, dcs=DCS_BINARY, udh=None, part=1, total=1)
    ]


def test_141_bytes_become_134_plus_7() -> None:
    parts = _split("0f" * 141, encoding=Encoding.BINARY, reference=1)
    assert [p.payload for p in parts] == ["0F" * 134, "0F" * 7]
    assert [p.udh for p in parts] == ["050003010201", "050003010202"]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("0G", id="not-hex"),
        pytest.param("ABC", id="odd-length"),
        pytest.param("AB CD", id="whitespace"),
        pytest.param("0x00", id="prefix"),
        pytest.param("٣٣", id="non-ascii-digits"),
    ],
)
def test_bad_binary_payload_is_rejected(payload: str) -> None:
    with pytest.raises(InvalidHexError) as err:
        _split(payload, encoding=Encoding.BINARY)
    assert err.value.field == "payload"
    assert err.value.code == "invalid_hex"
    assert err.value.placeholders == {"field": "payload"}


# --- limits and argument checks -------------------------------------------------


def test_empty_message_is_rejected() -> None:
    with pytest.raises(EmptyMessageError) as err:
        _split("")
    assert err.value.code == "empty_message"
    assert err.value.placeholders == {}


def test_empty_binary_payload_is_rejected() -> None:
    with pytest.raises(EmptyMessageError):
        _split("", encoding=Encoding.BINARY)


def test_exactly_max_parts_is_allowed() -> None:
    assert len(_split("a" * 153 * 3, max_parts=3)) == 3


def test_more_parts_than_allowed_is_rejected_with_counts() -> None:
    with pytest.raises(MessageTooLongError) as err:
        _split("a" * (153 * 3 + 1), max_parts=3)
    assert (err.value.parts_needed, err.value.max_parts) == (4, 3)
    assert err.value.code == "too_many_parts"
    assert err.value.placeholders == {"parts_needed": "4", "max_parts": "3"}


def test_max_parts_one_refuses_anything_longer_than_one_sms() -> None:
    with pytest.raises(MessageTooLongError) as err:
        _split("a" * 161, max_parts=1)
    assert err.value.parts_needed == 2


@pytest.mark.parametrize("reference", [-1, 256])
def test_reference_outside_one_byte_is_a_programming_error(reference: int) -> None:
    with pytest.raises(ValueError, match="reference"):
        _split("hi", reference=reference)


@pytest.mark.parametrize("max_parts", [0, 256])
def test_max_parts_outside_one_byte_is_a_programming_error(max_parts: int) -> None:
    with pytest.raises(ValueError, match="max_parts"):
        _split("hi", max_parts=max_parts)


# --- caller-supplied UDH ----------------------------------------------------------

CONCAT_UDH = "050003cc0301"  # 1NCE's own example, 6 bytes incl. the length byte
PORT_UDH = "0605040B8423F0"  # 16-bit port addressing (WAP push), 7 bytes


@pytest.mark.parametrize(
    ("encoding", "udh", "unit", "room"),
    [
        pytest.param(Encoding.GSM7, CONCAT_UDH, "a", 153, id="gsm7-6-bytes"),
        pytest.param(Encoding.UCS2, CONCAT_UDH, "ж", 67, id="ucs2-6-bytes"),
        pytest.param(Encoding.BINARY, CONCAT_UDH, "AA", 134, id="binary-6-bytes"),
        pytest.param(Encoding.GSM7, PORT_UDH, "a", 152, id="gsm7-7-bytes"),
        pytest.param(Encoding.UCS2, PORT_UDH, "ж", 66, id="ucs2-7-bytes"),
        pytest.param(Encoding.BINARY, PORT_UDH, "AA", 133, id="binary-7-bytes"),
    ],
)
def test_caller_udh_takes_its_room_from_the_single_sms(
    encoding: Encoding, udh: str, unit: str, room: int
) -> None:
    parts = _split(unit * room, encoding=encoding, udh=udh)
    assert [(p.udh, p.part, p.total) for p in parts] == [(udh.upper(), 1, 1)]
    with pytest.raises(TooLongForHeaderError) as err:
        _split(unit * (room + 1), encoding=encoding, udh=udh)
    assert (err.value.room, err.value.needed) == (room, room + 1)
    assert err.value.header_bytes == len(udh) // 2
    assert err.value.encoding is encoding


def test_caller_udh_reports_what_fits_and_what_the_text_needs() -> None:
    """Not a part count: a message with its own header is never split."""
    with pytest.raises(TooLongForHeaderError) as err:
        _split("a" * 400, udh=CONCAT_UDH)
    assert err.value.placeholders == {"header": "6", "room": "153", "needed": "400"}
    assert err.value.code == "udh_message_too_long"


def test_caller_udh_counts_extension_characters_twice() -> None:
    assert len(_split("€" * 76 + "a", udh=CONCAT_UDH)) == 1
    with pytest.raises(TooLongForHeaderError) as err:
        _split("€" * 77, udh=CONCAT_UDH)
    assert (err.value.room, err.value.needed) == (153, 154)


def test_empty_udh_means_no_header() -> None:
    parts = _split("a" * 161, udh="")
    assert [p.udh for p in parts] == ["0500032A0201", "0500032A0202"]


@pytest.mark.parametrize(
    "udh",
    [
        pytest.param("0500", id="length-byte-too-big"),
        pytest.param("050003CC03", id="one-byte-short"),
        pytest.param("03000301020304", id="length-byte-too-small"),
        pytest.param("ZZ", id="not-hex"),
        pytest.param("05000", id="odd-length"),
        pytest.param("05 00 03 CC 03 01", id="spaces"),
    ],
)
def test_malformed_udh_is_rejected(udh: str) -> None:
    with pytest.raises(InvalidHexError) as err:
        _split("hi", udh=udh)
    assert err.value.field == "udh"


def test_udh_leaving_no_room_is_rejected() -> None:
    header = "8A" + "00" * 138  # 139 bytes: 0 UCS-2 units left, 1 septet left
    with pytest.raises(InvalidHexError) as err:
        _split("ж", udh=header)
    assert err.value.field == "udh"
    assert _split("a", udh=header)[0].payload == "a"


# --- invariants over many messages ------------------------------------------------

ALPHABET = "abc XYZ 019.,!?\n" + "€[]^" + "äöüßÇ" + "çжЖ" + "😀🚀"


@pytest.mark.parametrize("seed", range(20))
def test_random_messages_split_into_valid_parts_that_rejoin(seed: int) -> None:
    """Properties any split must have; a hypothesis test could take this over."""
    rng = random.Random(seed)
    for _ in range(25):
        # Bias towards GSM-only text so both alphabets get long messages.
        pool = ALPHABET if rng.random() < 0.5 else ALPHABET[:25]
        text = "".join(rng.choices(pool, k=rng.randint(1, 700)))
        parts = split_message(text, reference=seed, max_parts=255)
        gsm = choose_encoding(text) is Encoding.GSM7
        single, per_part = (160, 153) if gsm else (70, 67)

        def cost(payload: str, gsm: bool = gsm) -> int:
            if gsm:
                return gsm7_septets(payload)
            return len(payload.encode("utf-16-be")) // 2

        assert "".join(p.payload for p in parts) == text
        assert [p.part for p in parts] == list(range(1, len(parts) + 1))
        if len(parts) == 1:
            assert parts[0].udh is None
            assert cost(text) <= single
        else:
            assert cost(text) > single
            for p in parts:
                assert cost(p.payload) <= per_part
                assert p.udh == f"050003{seed:02X}{len(parts):02X}{p.part:02X}"
            # Greedy: the next piece would not have fitted into the part.
            for p, nxt in itertools.pairwise(parts):
                assert cost(p.payload + nxt.payload[0]) > per_part


# --- decoding received SMS ----------------------------------------------------------


@pytest.mark.parametrize(
    ("dcs", "expected"),
    [
        pytest.param(0x00, Encoding.GSM7, id="00-gsm7"),
        pytest.param(0x04, Encoding.BINARY, id="04-8bit"),
        pytest.param(0x08, Encoding.UCS2, id="08-ucs2"),
        pytest.param(0x0C, Encoding.BINARY, id="0C-reserved-alphabet"),
        pytest.param(0x10, Encoding.GSM7, id="10-flash-gsm7"),
        pytest.param(0x11, Encoding.GSM7, id="11-class1-gsm7"),
        pytest.param(0x16, Encoding.BINARY, id="16-class2-8bit"),
        pytest.param(0x18, Encoding.UCS2, id="18-flash-ucs2"),
        pytest.param(0x20, Encoding.BINARY, id="20-compressed"),
        pytest.param(0x40, Encoding.GSM7, id="40-auto-delete-gsm7"),
        pytest.param(0x48, Encoding.UCS2, id="48-auto-delete-ucs2"),
        pytest.param(0x80, Encoding.BINARY, id="80-reserved-group"),
        pytest.param(0xB8, Encoding.BINARY, id="B8-reserved-group"),
        pytest.param(0xC8, Encoding.GSM7, id="C8-mwi-discard"),
        pytest.param(0xD0, Encoding.GSM7, id="D0-mwi-store"),
        pytest.param(0xE8, Encoding.UCS2, id="E8-mwi-store-ucs2"),
        pytest.param(0xF0, Encoding.GSM7, id="F0-flash-gsm7"),
        pytest.param(0xF1, Encoding.GSM7, id="F1-class1-gsm7"),
        pytest.param(0xF4, Encoding.BINARY, id="F4-class0-8bit"),
        pytest.param(0xF6, Encoding.BINARY, id="F6-sim-8bit"),
        pytest.param(-1, Encoding.BINARY, id="negative"),
        pytest.param(256, Encoding.BINARY, id="too-big"),
    ],
)
def test_data_coding_scheme_gives_the_alphabet(dcs: int, expected: Encoding) -> None:
    assert encoding_for_dcs(dcs) is expected


def test_gsm7_payload_is_already_text() -> None:
    assert decode_payload("Temp 21 C [ok]", 0) == "Temp 21 C [ok]"


def test_gsm7_payload_that_looks_like_hex_is_left_alone() -> None:
    assert decode_payload("00410042", 0) == "00410042"


@pytest.mark.parametrize("dcs", [4, 0xF4, 0x24, 0x80])
def test_binary_or_unreadable_payload_has_no_text(dcs: int) -> None:
    assert decode_payload("48656C6C6F", dcs) is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param("Привет 😀", "Привет 😀", id="plain-text"),
        pytest.param("0048006900200436", "Hi ж", id="hex"),
        pytest.param("d83dde00", "😀", id="hex-surrogate-pair-lowercase"),
        pytest.param("D83DDE000021", "😀!", id="hex-surrogate-pair-then-char"),
        pytest.param("0041000A0042000D0009", "A\nB\r\t", id="hex-with-newlines"),
        pytest.param("", "", id="empty"),
        pytest.param("ABC", "ABC", id="hex-digits-odd-length"),
        pytest.param("ABCDEF", "ABCDEF", id="hex-digits-not-multiple-of-4"),
        pytest.param("D83D0041", "D83D0041", id="lone-high-surrogate"),
        pytest.param("DE000041", "DE000041", id="lone-low-surrogate"),
        pytest.param("00410000", "00410000", id="control-character"),
        pytest.param("E000", "E000", id="private-use"),
        pytest.param("FFFF", "FFFF", id="noncharacter"),
        pytest.param("1234 5678", "1234 5678", id="not-only-hex"),
    ],
)
def test_ucs2_payload_is_decoded_from_hex_only_when_it_reads_as_text(
    payload: str, expected: str
) -> None:
    assert decode_payload(payload, 8) == expected


def test_ucs2_text_that_happens_to_be_hex_is_misread_as_documented() -> None:
    # The known ambiguity: a person texting "CAFE" in UCS-2 gets U+CAFE.
    assert decode_payload("CAFE", 8) == "\ucafe"


def test_flash_ucs2_is_decoded_like_plain_ucs2() -> None:
    assert decode_payload("00480069", 0x18) == "Hi"


def test_encoding_values_are_the_strings_callers_pass() -> None:
    assert [e.value for e in Encoding] == ["auto", "gsm7", "ucs2", "binary"]
    assert (DCS_GSM7, DCS_BINARY, DCS_UCS2) == (0, 4, 8)


def test_parts_of_mixed_coding_are_decoded_one_by_one() -> None:
    assert decode_parts([("Hi ", 0), ("00E4", 8)]) == "Hi ä"
    assert decode_parts([("Hi ", 0), ("DEADBEEF", 4)]) is None
