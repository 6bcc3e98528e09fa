"""Forms of the bank pages. Field rules that need the database live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from quizengine.banks.fileformat import MAX_OPTIONS
from quizengine.banks.versions import CODE_MAX_LENGTH, TOPIC_MAX_LENGTH, QuestionContent
from quizengine.errors import Invalid
from quizengine.models import Question, QuestionVersion

__all__ = [
    "LETTERS",
    "ActionForm",
    "BankForm",
    "QuestionForm",
    "UploadForm",
    "apply_errors",
]

LETTERS = "ABCDEF"[:MAX_OPTIONS]

DIFFICULTY_CHOICES = [
    SelectChoice("", _l("(không ghi)")),
    SelectChoice("easy", _l("Dễ")),
    SelectChoice("medium", _l("Trung bình")),
    SelectChoice("hard", _l("Khó")),
]


def apply_errors(form: FlaskForm, exc: Invalid) -> None:
    """Show a service's refusal under the fields it names, the rest above the form."""
    fields = exc.details.get("fields") or {}
    shown = False
    for name, message in fields.items():
        field = getattr(form, name, None)
        if field is None and name == "options":
            field = form.option_a
        if field is not None:
            field.errors = [*field.errors, message]
            shown = True
        else:
            form.form_errors.append(message)
            shown = True
    if not shown:
        form.form_errors.append(str(exc.message))


class ActionForm(FlaskForm):
    """A button that posts (disable, enable, confirm, cancel): only the CSRF token."""


class BankForm(FlaskForm):
    slug = StringField(
        _l("Mã ngân hàng"),
        validators=[DataRequired(_l("Hãy nhập mã ngân hàng.")), Length(max=100)],
        description=_l("Chữ thường không dấu, số và dấu gạch ngang, ví dụ: luat-lao-dong."),
    )
    title = StringField(
        _l("Tên ngân hàng"),
        validators=[DataRequired(_l("Hãy nhập tên ngân hàng.")), Length(max=200)],
    )


class UploadForm(FlaskForm):
    file = FileField(
        _l("Tệp câu hỏi (.xlsx hoặc .csv)"),
        validators=[FileRequired(_l("Hãy chọn tệp câu hỏi."))],
    )
    slug = StringField(
        _l("Nhập vào ngân hàng (mã)"),
        validators=[DataRequired(_l("Hãy nhập mã ngân hàng.")), Length(max=100)],
        description=_l(
            "Mã của ngân hàng có sẵn, hoặc mã mới để tạo ngân hàng mới "
            "(chữ thường không dấu, số, dấu gạch ngang)."
        ),
    )
    title = StringField(
        _l("Tên ngân hàng mới"),
        validators=[Optional(), Length(max=200)],
        description=_l("Chỉ cần khi tạo ngân hàng mới."),
    )
    sheet = StringField(
        _l("Trang tính (với tệp .xlsx)"),
        validators=[Optional(), Length(max=100)],
        description=_l("Để trống để dùng trang tính đầu tiên."),
    )


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuestionForm(FlaskForm):
    text = TextAreaField(_l("Câu hỏi"), validators=[DataRequired(_l("Hãy nhập nội dung câu hỏi."))])
    option_a = TextAreaField(_l("Phương án A"))
    option_b = TextAreaField(_l("Phương án B"))
    option_c = TextAreaField(_l("Phương án C"))
    option_d = TextAreaField(_l("Phương án D"))
    option_e = TextAreaField(_l("Phương án E"))
    option_f = TextAreaField(_l("Phương án F"))
    correct = _Checkboxes(
        _l("Đáp án đúng"),
        choices=[SelectChoice(letter, letter) for letter in LETTERS],
        validators=[DataRequired(_l("Hãy chọn ít nhất một đáp án đúng."))],
    )
    code = StringField(
        _l("Mã câu hỏi"),
        validators=[Optional(), Length(max=CODE_MAX_LENGTH)],
        description=_l("Không bắt buộc; dùng để cập nhật câu hỏi khi nhập lại tệp."),
    )
    topic = StringField(_l("Chủ đề"), validators=[Optional(), Length(max=TOPIC_MAX_LENGTH)])
    difficulty = SelectField(_l("Độ khó"), choices=DIFFICULTY_CHOICES, default="")
    explanation = TextAreaField(_l("Giải thích"))
    legal_basis = TextAreaField(
        _l("Căn cứ pháp lý"), description=_l("Điều, khoản và văn bản mà đáp án dựa vào.")
    )

    def option_fields(self) -> list[TextAreaField]:
        return [getattr(self, f"option_{letter.lower()}") for letter in LETTERS]

    def fill(self, question: Question, version: QuestionVersion) -> None:
        """Put a question's current version into the fields (for a GET)."""
        self.text.data = version.text
        for field, value in zip(self.option_fields(), version.options, strict=False):
            field.data = value
        self.correct.data = [LETTERS[index] for index in version.correct]
        self.code.data = question.code or ""
        self.topic.data = question.topic or ""
        self.difficulty.data = question.difficulty or ""
        self.explanation.data = version.explanation or ""
        self.legal_basis.data = version.legal_basis or ""

    def content(self) -> QuestionContent:
        return QuestionContent(
            text=self.text.data or "",
            options=[field.data or "" for field in self.option_fields()],
            correct=[LETTERS.index(letter) for letter in self.correct.data or []],
            code=self.code.data,
            topic=self.topic.data,
            difficulty=self.difficulty.data or None,
            explanation=self.explanation.data,
            legal_basis=self.legal_basis.data,
        )
