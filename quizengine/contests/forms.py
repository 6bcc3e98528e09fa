"""Organiser forms for contests and rounds.

Forms only parse what was typed (numbers, local date-times, minutes with decimals) into the
plain values the services take; the rules live in services.py, whose field-level refusals
``apply_errors`` puts back under the right inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from quizengine.clock import LOCAL_TZ, to_local
from quizengine.contests.parsing import DIFFICULTIES, DrawSpec, format_minutes, minutes_to_seconds
from quizengine.contests.queries import BankChoice
from quizengine.contests.services import BoardEdit, RoundFields
from quizengine.errors import Invalid
from quizengine.models import DEFAULT_LADDER, Contest, PredictionTarget, ReviewPolicy, Round

# The browser's datetime-local value; some send seconds, a hand-typed value may use a space.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
NOT_A_NUMBER = _l("Vui lòng nhập một số nguyên.")
NOT_A_TIME = _l("Vui lòng nhập ngày giờ theo dạng ngày/tháng/năm giờ:phút.")
BLANK_BOARD_ROWS = 2
BLANK_DRAW_ROWS = 2


def local_to_utc(value: datetime) -> datetime:
    """A wall-clock time typed in Vietnam (no offset) → aware UTC."""
    return value.replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def utc_to_local_naive(value: datetime) -> datetime:
    return to_local(value).replace(tzinfo=None)


# --- contests ----------------------------------------------------------------------------


class BoardRow(Form):
    id = HiddenField()
    name = StringField(_l("Tên bảng"), validators=[Length(max=200)])


class ContestForm(FlaskForm):
    title = StringField(
        _l("Tên cuộc thi"),
        validators=[InputRequired(_l("Vui lòng nhập tên cuộc thi.")), Length(max=200)],
    )
    description = TextAreaField(_l("Giới thiệu"))
    rules = TextAreaField(_l("Thể lệ (hiện cho thí sinh trước khi bắt đầu)"))
    access_code = StringField(_l("Mã truy cập (để trống nếu không dùng)"), [Length(max=50)])
    boards = FieldList(FormField(BoardRow), label=_l("Các bảng"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section_errors: dict[str, list[str]] = {}

    @classmethod
    def for_contest(cls, contest: Contest | None) -> ContestForm:
        """The form for a new contest (None) or pre-filled for ``contest`` on GET."""
        if contest is None:
            form = cls()
        else:
            form = cls(
                data={
                    "title": contest.title,
                    "description": contest.description,
                    "rules": contest.rules,
                    "access_code": contest.access_code or "",
                    "boards": [{"id": str(b.id), "name": b.name} for b in contest.boards],
                }
            )
        if not form.is_submitted():
            for _i in range(BLANK_BOARD_ROWS):
                form.boards.append_entry()
        return form

    def board_names(self) -> list[str]:
        return [row.form.name.data or "" for row in self.boards]

    def board_edits(self) -> list[BoardEdit]:
        edits = []
        for row in self.boards:
            raw_id = (row.form.id.data or "").strip()
            edits.append(
                BoardEdit(
                    name=row.form.name.data or "",
                    id=int(raw_id) if raw_id.isdigit() else None,
                )
            )
        return edits


# --- rounds ------------------------------------------------------------------------------


class DrawRow(Form):
    bank = SelectField(_l("Ngân hàng câu hỏi"), validate_choice=False)
    count = IntegerField(_l("Số câu"), validators=[Optional()], invalid_value_message=NOT_A_NUMBER)
    difficulty = SelectField(
        _l("Độ khó"),
        choices=[
            SelectChoice("", _l("mọi độ khó")),
            SelectChoice("easy", _l("dễ")),
            SelectChoice("medium", _l("trung bình")),
            SelectChoice("hard", _l("khó")),
        ],
        validate_choice=False,
    )
    topic = StringField(_l("Chủ đề (để trống: mọi chủ đề)"), validators=[Length(max=200)])


REVIEW_CHOICES = [
    SelectChoice(ReviewPolicy.AFTER_CLOSE.value, _l("Sau khi tuần thi đóng")),
    SelectChoice(ReviewPolicy.AFTER_SUBMIT.value, _l("Ngay sau khi nộp bài")),
    SelectChoice(ReviewPolicy.NEVER.value, _l("Không cho xem lại")),
]
TARGET_CHOICES = [
    SelectChoice(PredictionTarget.FULL_MARKS.value, _l("Số người có bài đạt điểm tuyệt đối")),
    SelectChoice(PredictionTarget.PARTICIPANTS.value, _l("Số người tham gia thi")),
]
PRIZE_FIELDS = ("prize_first", "prize_second", "prize_third", "prize_consolation")
# Service field name → the input that shows its message.
_FIELD_FOR = {"time_limit_seconds": "minutes", "prizes": "prize_first"}


def _prize_field(label: Any) -> IntegerField:
    return IntegerField(
        label, validators=[Optional()], default=0, invalid_value_message=NOT_A_NUMBER
    )


class RoundForm(FlaskForm):
    title = StringField(_l("Tên tuần thi (để trống: “Tuần N”)"), [Length(max=200)])
    opens_at = DateTimeLocalField(
        _l("Mở lúc (giờ Việt Nam)"),
        format=LOCAL_FORMATS,
        validators=[InputRequired(_l("Vui lòng nhập thời điểm mở."))],
        invalid_value_message=NOT_A_TIME,
    )
    closes_at = DateTimeLocalField(
        _l("Đóng lúc (giờ Việt Nam)"),
        format=LOCAL_FORMATS,
        validators=[InputRequired(_l("Vui lòng nhập thời điểm đóng."))],
        invalid_value_message=NOT_A_TIME,
    )
    draws = FieldList(FormField(DrawRow), label=_l("Rút câu hỏi"))
    minutes = StringField(
        _l("Thời gian làm bài (phút, có thể có số lẻ như 0.5)"),
        validators=[InputRequired(_l("Vui lòng nhập thời gian làm bài."))],
        default="20",
    )
    attempts_allowed = IntegerField(
        _l("Số lượt thi mỗi người (tính lượt tốt nhất)"),
        validators=[InputRequired(_l("Vui lòng nhập số lượt thi."))],
        default=1,
        invalid_value_message=NOT_A_NUMBER,
    )
    shuffle_questions = BooleanField(_l("Đảo thứ tự câu hỏi"), default=True)
    shuffle_options = BooleanField(_l("Đảo thứ tự phương án"), default=True)
    review_policy = SelectField(
        _l("Thí sinh được xem lại bài"),
        choices=REVIEW_CHOICES,
        default=ReviewPolicy.AFTER_CLOSE.value,
    )
    prediction_text = TextAreaField(_l("Câu hỏi dự đoán (để trống nếu không có)"))
    ladder = StringField(
        _l("Thứ tự xếp hạng"), default=DEFAULT_LADDER, validators=[Length(max=200)]
    )
    prediction_target = SelectField(
        _l("Đáp án câu dự đoán là"),
        choices=TARGET_CHOICES,
        default=PredictionTarget.FULL_MARKS.value,
    )
    prize_first = _prize_field(_l("Giải Nhất"))
    prize_second = _prize_field(_l("Giải Nhì"))
    prize_third = _prize_field(_l("Giải Ba"))
    prize_consolation = _prize_field(_l("Giải Khuyến khích"))

    def __init__(self, *args: Any, locked: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section_errors: dict[str, list[str]] = {}
        self.time_limit_seconds: int | None = None
        # A locked setting is not an input at all: the page shows it as text and the
        # service never sees a value for it, so nothing a browser sends can change it.
        self.locked = locked
        for name in locked:
            form_name = {"time_limit_seconds": "minutes"}.get(name, name)
            if form_name in self._fields:
                delattr(self, form_name)

    @classmethod
    def for_round(cls, rnd: Round | None, *, locked: tuple[str, ...] = ()) -> RoundForm:
        """The form for a new round (None) or pre-filled with ``rnd`` on GET."""
        if rnd is None:
            form = cls(locked=locked)
        else:
            prizes = list(rnd.prizes or []) or [0, 0, 0, 0]
            data: dict[str, Any] = {
                "title": rnd.title,
                "opens_at": utc_to_local_naive(rnd.opens_at),
                "closes_at": utc_to_local_naive(rnd.closes_at),
                "draws": [
                    {
                        "bank": r.bank_slug,
                        "count": r.count,
                        "difficulty": r.difficulty or "",
                        "topic": r.topic or "",
                    }
                    for r in rnd.draw_rules
                ],
                "minutes": format_minutes(rnd.time_limit_seconds),
                "attempts_allowed": rnd.attempts_allowed,
                "shuffle_questions": rnd.shuffle_questions,
                "shuffle_options": rnd.shuffle_options,
                "review_policy": rnd.review_policy,
                "prediction_text": rnd.prediction_text or "",
                "ladder": rnd.ladder,
                "prediction_target": rnd.prediction_target,
                **dict(zip(PRIZE_FIELDS, prizes, strict=True)),
            }
            form = cls(data=data, locked=locked)
        if "draws" in form._fields and not form.is_submitted():
            for _i in range(BLANK_DRAW_ROWS):
                form.draws.append_entry()
        return form

    def set_banks(self, banks: list[BankChoice]) -> None:
        if "draws" not in self._fields:
            return
        choices = [SelectChoice("", _l("— chọn ngân hàng —"))] + [
            SelectChoice(b.slug, f"{b.title} ({b.slug}, {b.active})") for b in banks
        ]
        for row in self.draws:
            row.form.bank.choices = choices

    def validate_minutes(self, field: Field) -> None:
        try:
            self.time_limit_seconds = minutes_to_seconds(field.data or "")
        except ValueError:
            self.time_limit_seconds = None
            raise ValidationError(
                _l("Thời gian làm bài là số phút từ 0.02 (1 giây) đến 1440, ví dụ 20 hoặc 0.5.")
            ) from None

    def draw_specs(self) -> list[DrawSpec]:
        specs = []
        for row in self.draws:
            bank = (row.form.bank.data or "").strip()
            if not bank:
                continue
            specs.append(
                DrawSpec(
                    bank_slug=bank,
                    count=row.form.count.data or 0,
                    difficulty=(row.form.difficulty.data or None)
                    if row.form.difficulty.data in DIFFICULTIES
                    else None,
                    topic=(row.form.topic.data or "").strip() or None,
                )
            )
        return specs

    def values(self) -> RoundFields:
        """The settings this form carries (locked ones are absent) as service values."""
        values: RoundFields = {
            "title": self.title.data,
            "closes_at": local_to_utc(self.closes_at.data),
            "attempts_allowed": self.attempts_allowed.data,
            "review_policy": self.review_policy.data,
            "prizes": [getattr(self, name).data or 0 for name in PRIZE_FIELDS],
        }
        if "opens_at" in self._fields:
            values["opens_at"] = local_to_utc(self.opens_at.data)
        if "draws" in self._fields:
            values["draws"] = self.draw_specs()
        if "minutes" in self._fields and self.time_limit_seconds is not None:
            values["time_limit_seconds"] = self.time_limit_seconds
        if "shuffle_questions" in self._fields:
            values["shuffle_questions"] = bool(self.shuffle_questions.data)
        if "shuffle_options" in self._fields:
            values["shuffle_options"] = bool(self.shuffle_options.data)
        if "prediction_text" in self._fields:
            values["prediction_text"] = self.prediction_text.data
        if "ladder" in self._fields:
            values["ladder"] = self.ladder.data
        if "prediction_target" in self._fields:
            values["prediction_target"] = self.prediction_target.data
        return values


def apply_errors(form: FlaskForm, exc: Invalid) -> None:
    """Show a service's field-level refusals under the inputs; the rest above the form."""
    fields: dict[str, Any] = exc.details.get("fields") or {}
    leftovers: list[str] = []
    sections: dict[str, list[str]] = form.section_errors
    for key, message in fields.items():
        target = _target_field(form, key)
        if target is None and key in ("draws", "boards") and key in form._fields:
            sections.setdefault(key, []).append(str(message))
        elif target is None:
            leftovers.append(str(message))
        else:
            target.errors = [*list(target.errors or []), str(message)]
    if not fields:
        leftovers.append(str(exc.message))
    form.form_errors = [*form.form_errors, *leftovers]


def _target_field(form: FlaskForm, key: str) -> Field | None:
    if key.startswith("draws-") and "draws" in form._fields:
        index = key.removeprefix("draws-")
        # Blank rows are skipped, so the n-th rule is the n-th row with a bank chosen.
        rows = [row for row in form.draws if (row.form.bank.data or "").strip()]
        if index.isdigit() and int(index) < len(rows):
            field: Field = rows[int(index)].form.count
            return field
        return None
    name = _FIELD_FOR.get(key, key)
    if name in ("draws", "boards"):
        return None
    found: Field | None = form._fields.get(name)
    return found
