"""What a person may type into an account form, and the one normal form we store.

Pure functions, no I/O: the registration form, the CLI and the unit import all call these,
so a phone number or a name is accepted (or refused, with the same message) everywhere.
Each ``clean_*`` returns the stored value or raises ``FieldInvalid`` with a Vietnamese
message meant to be shown next to the field.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l

__all__ = [
    "BIRTH_YEAR_MIN",
    "MIN_WORKING_AGE",
    "NAME_MAX",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "UNIT_CODE_MAX",
    "UNIT_NAME_MAX",
    "UNIT_SHORT_NAME_MAX",
    "FieldInvalid",
    "clean_birth_year",
    "clean_members",
    "clean_name",
    "clean_national_id",
    "clean_password",
    "clean_phone",
    "clean_text",
    "clean_unit_code",
    "clean_unit_name",
    "clean_unit_short_name",
    "is_row_id",
    "mask_national_id",
    "mask_phone",
    "phone_key",
]

NAME_MAX = 100
UNIT_NAME_MAX = 200
UNIT_SHORT_NAME_MAX = 100
UNIT_CODE_MAX = 50
PASSWORD_MIN = 8
PASSWORD_MAX = 128
BIRTH_YEAR_MIN = 1920
# Vietnamese labour law lets people work from 15; a 14-year-old apprentice is the youngest
# plausible union member, so younger birth years are a typo rather than a person.
MIN_WORKING_AGE = 14
MOBILE_PREFIXES = ("03", "05", "07", "08", "09")

# Bidirectional overrides and isolates are format characters (Cf) rather than controls
# (Cc), but in a name they only serve to make a table display something else than what is
# stored, so they count as control characters here.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Pasted names may carry a tab or a line break; those are whitespace and get collapsed.
_WHITESPACE_CONTROLS = frozenset("\t\n\r")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()/]+")
_UNIT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")


# PostgreSQL's integer: an id in a URL beyond it is simply not found (not a query error).
ROW_ID_MAX = 2**31 - 1


def is_row_id(value: int | None) -> bool:
    return value is not None and 0 < value <= ROW_ID_MAX


class FieldInvalid(ValueError):
    """One field's value is refused; ``message`` is the text to show next to the field.

    ``reason`` is a stable word (``required``, ``too_long``, ``bad_character``, ``format``)
    for callers that word their own message, like the English unit-file import.
    """

    def __init__(self, message: Any, reason: str = "format") -> None:
        super().__init__(str(message))
        self.message = message
        self.reason = reason


def _is_control(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("Cc", "Cs") or char in _BIDI_CONTROLS


def clean_text(
    value: str | None,
    *,
    max_length: int,
    required: Any,
    too_long: Any,
    bad_character: Any,
) -> str | None:
    """NFC, trimmed, inner whitespace collapsed; control characters refused.

    Returns None for an empty optional value (``required`` None), otherwise raises.
    """
    text = unicodedata.normalize("NFC", value or "")
    if any(_is_control(char) and char not in _WHITESPACE_CONTROLS for char in text):
        raise FieldInvalid(bad_character, "bad_character")
    text = " ".join(text.split())
    if not text:
        if required is None:
            return None
        raise FieldInvalid(required, "required")
    if len(text) > max_length:
        raise FieldInvalid(too_long, "too_long")
    return text


def clean_name(value: str | None) -> str:
    """A person's full name, stored as typed apart from NFC and whitespace."""
    name = clean_text(
        value,
        max_length=NAME_MAX,
        required=_l("Vui lòng nhập họ và tên."),
        too_long=_l("Họ và tên dài quá %(max)d ký tự.", max=NAME_MAX),
        bad_character=_l("Họ và tên chứa ký tự điều khiển không hợp lệ; vui lòng gõ lại."),
    )
    assert name is not None
    return name


def phone_key(value: str | None) -> str | None:
    """The 10-digit national form ``0XXXXXXXXX`` of a Vietnamese mobile number, or None.

    Accepts spaces, dots, dashes and brackets, ``+84``/``84``/``0084`` in front, full-width
    digits, and the 9 digits left when a spreadsheet dropped the leading zero.
    """
    text = unicodedata.normalize("NFKC", value or "").strip()
    text = _PHONE_SEPARATORS.sub("", text)
    if text.startswith("+"):
        text = text[1:]
        if not text.startswith("84"):
            return None
    if not text.isascii() or not text.isdigit():
        return None
    if text.startswith("0084"):
        text = "0" + text[4:]
    elif text.startswith("84") and len(text) == 11:
        text = "0" + text[2:]
    elif len(text) == 9 and not text.startswith("0"):
        text = "0" + text
    if len(text) != 10 or not text.startswith(MOBILE_PREFIXES):
        return None
    return text


def clean_phone(value: str | None) -> str:
    if not (value or "").strip():
        raise FieldInvalid(_l("Vui lòng nhập số điện thoại."))
    phone = phone_key(value)
    if phone is None:
        raise FieldInvalid(
            _l(
                "Số điện thoại không hợp lệ. Nhập số di động 10 chữ số bắt đầu bằng "
                "03, 05, 07, 08 hoặc 09, ví dụ 0912 345 678."
            )
        )
    return phone


def clean_password(value: str | None, *, phone: str | None = None) -> str:
    """Checked as typed: no trimming, a password is not text to tidy up."""
    password = value or ""
    if len(password) < PASSWORD_MIN:
        raise FieldInvalid(_l("Mật khẩu phải có ít nhất %(min)d ký tự.", min=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise FieldInvalid(_l("Mật khẩu dài quá %(max)d ký tự.", max=PASSWORD_MAX))
    if phone and phone_key(password) == phone:
        raise FieldInvalid(_l("Mật khẩu không được là số điện thoại của bạn."))
    return password


def clean_birth_year(value: str | int | None, *, current_year: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    latest = current_year - MIN_WORKING_AGE
    message = _l("Năm sinh gồm 4 chữ số, từ %(low)d đến %(high)d.", low=BIRTH_YEAR_MIN, high=latest)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise FieldInvalid(message)
    year = int(text)
    if not BIRTH_YEAR_MIN <= year <= latest:
        raise FieldInvalid(message)
    return year


def clean_national_id(value: str | None) -> str | None:
    """CCCD: exactly 12 digits; spaces and dots that people type between groups are dropped."""
    text = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) == 12):
        raise FieldInvalid(_l("Số CCCD gồm đúng 12 chữ số (xem mặt trước thẻ căn cước)."))
    return text


def mask_national_id(value: str | None) -> str:
    """What anyone but an organiser sees of a CCCD: its last three digits."""
    if not value:
        return ""
    return "*" * (len(value) - 3) + value[-3:]


def mask_phone(value: str | None) -> str:
    """For public pages (leaderboards): ``0912***678``."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:4] + "***" + value[-3:]


def clean_unit_code(value: str | None) -> str:
    """Unit codes travel in registration links and QR codes: ASCII letters, digits, . _ -"""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise FieldInvalid(_l("Vui lòng nhập mã đơn vị."), "required")
    if len(text) > UNIT_CODE_MAX or not text.isascii() or not _UNIT_CODE.fullmatch(text):
        raise FieldInvalid(
            _l(
                "Mã đơn vị chỉ gồm chữ cái không dấu, chữ số và các dấu . _ - "
                "(tối đa %(max)d ký tự), ví dụ CDCS-001.",
                max=UNIT_CODE_MAX,
            )
        )
    return text


def clean_unit_name(value: str | None) -> str:
    name = clean_text(
        value,
        max_length=UNIT_NAME_MAX,
        required=_l("Vui lòng nhập tên đơn vị."),
        too_long=_l("Tên đơn vị dài quá %(max)d ký tự.", max=UNIT_NAME_MAX),
        bad_character=_l("Tên đơn vị chứa ký tự điều khiển không hợp lệ."),
    )
    assert name is not None
    return name


def clean_unit_short_name(value: str | None) -> str | None:
    return clean_text(
        value,
        max_length=UNIT_SHORT_NAME_MAX,
        required=None,
        too_long=_l("Tên viết tắt dài quá %(max)d ký tự.", max=UNIT_SHORT_NAME_MAX),
        bad_character=_l("Tên viết tắt chứa ký tự điều khiển không hợp lệ."),
    )


def clean_members(value: str | int | None) -> int | None:
    """A member count as organisers write it: ``1234``, ``1.234``, ``1,234`` or ``1 234``."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    digits = re.sub(r"(?<=\d)[.,\s](?=\d{3}(?:\D|$))", "", text)
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        raise FieldInvalid(_l("Số đoàn viên phải là số nguyên không âm, ví dụ 350."))
    return int(digits)
