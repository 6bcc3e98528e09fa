"""Judges' and organisers' forms: a reason for every decision, the prize settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from quizengine.models.judging import UnitFormula

LEVEL_LABELS = (_l("Giải Nhất"), _l("Giải Nhì"), _l("Giải Ba"), _l("Giải Khuyến khích"))
FORMULA_CHOICES = [
    SelectChoice(UnitFormula.NONE.value, _l("Không xét giải tập thể")),
    SelectChoice(UnitFormula.PARTICIPANTS.value, _l("Nhiều người dự thi nhất")),
    SelectChoice(
        UnitFormula.RATE.value, _l("Tỉ lệ đoàn viên tham gia cao nhất (cần số đoàn viên)")
    ),
    SelectChoice(
        UnitFormula.RATE_POINTS.value, _l("Tỉ lệ tham gia (%) cộng điểm giải của đoàn viên")
    ),
]


class ReasonForm(FlaskForm):
    """Every change to a result carries a reason (the service refuses a blank one too)."""

    reason = TextAreaField(
        _l("Lý do (bắt buộc)"),
        validators=[InputRequired(_l("Vui lòng ghi lý do (bắt buộc).")), Length(max=2000)],
    )


def _count(label: Any) -> IntegerField:
    return IntegerField(
        label,
        default=0,
        validators=[
            InputRequired(_l("Vui lòng nhập một số nguyên.")),
            NumberRange(min=0, max=100_000, message=_l("Số phải từ 0 trở lên.")),
        ],
    )


class PrizeForm(FlaskForm):
    first = _count(LEVEL_LABELS[0])
    second = _count(LEVEL_LABELS[1])
    third = _count(LEVEL_LABELS[2])
    consolation = _count(LEVEL_LABELS[3])
    once_per_contest = BooleanField(_l("Mỗi người chỉ đạt giải một lần trong cả cuộc thi"))
    unit_formula = SelectField(_l("Cách xét giải tập thể"), choices=FORMULA_CHOICES)
    unit_first = _count(LEVEL_LABELS[0])
    unit_second = _count(LEVEL_LABELS[1])
    unit_third = _count(LEVEL_LABELS[2])
    unit_consolation = _count(LEVEL_LABELS[3])
    points_first = _count(LEVEL_LABELS[0])
    points_second = _count(LEVEL_LABELS[1])
    points_third = _count(LEVEL_LABELS[2])
    points_consolation = _count(LEVEL_LABELS[3])
    reason = TextAreaField(
        _l("Ghi chú (không bắt buộc)"), validators=[Optional(), Length(max=2000)]
    )

    PRIZE_FIELDS = ("first", "second", "third", "consolation")
    UNIT_FIELDS = ("unit_first", "unit_second", "unit_third", "unit_consolation")
    POINT_FIELDS = ("points_first", "points_second", "points_third", "points_consolation")

    def fill(self, settings: dict[str, Any]) -> None:
        for names, key in (
            (self.PRIZE_FIELDS, "prizes"),
            (self.UNIT_FIELDS, "unit_prizes"),
            (self.POINT_FIELDS, "prize_points"),
        ):
            for name, value in zip(names, settings[key], strict=True):
                getattr(self, name).data = value
        self.once_per_contest.data = settings["once_per_contest"]
        self.unit_formula.data = settings["unit_formula"]

    def values(self, names: tuple[str, ...]) -> list[int]:
        return [int(getattr(self, name).data or 0) for name in names]
