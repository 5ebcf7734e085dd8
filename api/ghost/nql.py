"""Ghost's filter language (NQL), the subset Ghost frontends use, parsed and compiled to
SQLAlchemy conditions over the columns a resource declares filterable.

    tag:photo+featured:true            and          tag:-photo            not
    tag:[photo,video]                  any of       tag:-[photo,video]    none of
    published_at:>now-30d              > >= < <=    title:~'budget'       contains
    title:~^'How'  title:~$'ends'      starts/ends  (a,b)+c               parentheses
    feature_image:null  feature_image:-null         'quoted, strings'     true false numbers

`,` (or) binds looser than `+` (and). Relative dates are `now`, `now-30d`, `now+2h` (units
s, m, h, d, w, M, y). A field the resource does not declare is an error, so a filter never
reaches a column the public API does not show.
"""

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, false, not_, or_, true
from sqlalchemy.sql import Select

MAX_CONDITIONS = 50
MAX_DEPTH = 10
MAX_LIST = 100

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "contains", "starts", "ends", "in", "nin"]


class FilterError(ValueError):
    """The filter cannot be parsed, or names a field or value the resource does not take."""


@dataclass(frozen=True)
class Relative:
    """`now-30d`: a time relative to the request's clock."""

    sign: int
    amount: int
    unit: str


Value = str | int | float | bool | None | Relative


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: Value | tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Group:
    kind: Literal["and", "or"]
    parts: tuple["Node", ...]


Node = Condition | Group

TOKEN = re.compile(
    r"""\s*(?:
      (?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<relative>now[+-]\d{1,6}[smhdwMy])(?=$|[\s()\[\],+])
    | (?P<punct>[()\[\],+:])
    | (?P<op>>=|<=|>|<|~\^|~\$|~|-)
    | (?P<word>[^\s'"()\[\],+:<>~]+)
    )""",
    re.VERBOSE,
)
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
RELATIVE = re.compile(r"^now(?:([+-])(\d{1,6})([smhdwMy]))?$")
NUMBER = re.compile(r"^-?\d{1,15}(?:\.\d{1,15})?$")
OPERATORS: dict[str, Op] = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "~": "contains",
                            "~^": "starts", "~$": "ends"}  # fmt: skip


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"Unexpected character at position {position}: {text[position]!r}.")
        kind = match.lastgroup
        assert kind is not None
        found.append(("word" if kind == "relative" else kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.conditions = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("The filter ends too early.")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        kind, value = self.take()
        if value != text or kind not in ("punct", "op"):
            raise FilterError(f"Expected `{text}`, found `{value}`.")

    def parse(self) -> Node:
        if not self.tokens:
            raise FilterError("The filter is empty.")
        node = self.expression(0)
        if self.peek() is not None:
            raise FilterError(f"Unexpected `{self.peek()[1]}`.")  # type: ignore[index]
        return node

    def expression(self, depth: int) -> Node:
        parts = [self.conjunction(depth)]
        while self.peek() == ("punct", ","):
            self.take()
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else Group("or", tuple(parts))

    def conjunction(self, depth: int) -> Node:
        parts = [self.term(depth)]
        while self.peek() == ("punct", "+"):
            self.take()
            parts.append(self.term(depth))
        return parts[0] if len(parts) == 1 else Group("and", tuple(parts))

    def term(self, depth: int) -> Node:
        if self.peek() == ("punct", "("):
            if depth >= MAX_DEPTH:
                raise FilterError(f"Parentheses nest at most {MAX_DEPTH} deep.")
            self.take()
            node = self.expression(depth + 1)
            self.expect(")")
            return node
        return self.condition()

    def condition(self) -> Condition:
        kind, name = self.take()
        if kind != "word" or not FIELD_NAME.match(name):
            raise FilterError(f"Expected a field name, found `{name}`.")
        self.expect(":")
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise FilterError(f"A filter has at most {MAX_CONDITIONS} conditions.")
        negated = False
        op: Op = "eq"
        if self.peek() == ("op", "-"):
            self.take()
            negated = True
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in OPERATORS:
            self.take()
            op = OPERATORS[token[1]]
            if negated and op not in ("contains", "starts", "ends"):
                raise FilterError(f"`-` cannot negate `{token[1]}`.")
        if self.peek() == ("punct", "["):
            if op != "eq":
                raise FilterError("A list `[a,b]` takes no comparison operator.")
            return Condition(name.lower(), "in", self.values(), negated)
        return Condition(name.lower(), op, self.value(), negated)

    def values(self) -> tuple[Value, ...]:
        self.expect("[")
        items = [self.value()]
        while self.peek() == ("punct", ","):
            self.take()
            items.append(self.value())
        self.expect("]")
        if len(items) > MAX_LIST:
            raise FilterError(f"A list holds at most {MAX_LIST} values.")
        return tuple(items)

    def value(self) -> Value:
        kind, text = self.take()
        if kind == "quoted":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "op" and text == "-":
            # A negative number: `count:-1` would read as negation, so only digits follow.
            kind, text = self.take()
            if kind != "word" or not NUMBER.match(text):
                raise FilterError("Expected a value after `-`.")
            text = "-" + text
        elif kind != "word":
            raise FilterError(f"Expected a value, found `{text}`.")
        lowered = text.lower()
        if lowered in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[lowered]
        relative = RELATIVE.match(text)
        if relative:
            sign, amount, unit = relative.groups()
            return Relative(-1 if sign == "-" else 1, int(amount or 0), unit or "s")
        if NUMBER.match(text):
            return float(text) if "." in text else int(text)
        return text


def parse(text: str) -> Node:
    """The filter's syntax tree, or FilterError."""
    return _Parser(text).parse()


# --- compiling -----------------------------------------------------------------------------

FieldType = Literal["text", "time", "bool", "number"]


@dataclass(frozen=True)
class Column:
    """A filterable column: conditions compare it with the value (`convert` maps a public
    value, such as a Ghost id, to what is stored; None when nothing can match)."""

    column: Any
    type: FieldType = "text"
    convert: Callable[[Any], Any] | None = None
    # For ids: the condition for one public value (a key range), instead of `=`.
    match: Callable[[Any, Any], ColumnElement[bool]] | None = None


@dataclass(frozen=True)
class Constant:
    """A field Ghost has and Masthead answers with one value for every row (`featured` is
    always false, `visibility` always `public`): conditions on it are true or false."""

    value: Value
    type: FieldType = "text"


@dataclass(frozen=True)
class Related:
    """A field of related rows (`tags.slug`): the condition holds for the rows linked to at
    least one matching target, and its negation for the others (Ghost's semantics).
    `linked(target_condition)` is the statement of the owners' ids."""

    target: Column
    linked: Callable[[ColumnElement[bool]], Select[Any]]
    owner_id: Any = None


Field = Column | Constant | Related


@dataclass
class Compiler:
    fields: Mapping[str, Field]
    now: datetime
    known: Sequence[str] = field(default_factory=tuple)

    def compile(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Group):
            parts = [self.compile(part) for part in node.parts]
            return and_(*parts) if node.kind == "and" else or_(*parts)
        spec = self.fields.get(node.field)
        if spec is None:
            raise FilterError(
                f"Unknown field `{node.field}` in filter; this resource filters by "
                f"{', '.join(sorted(self.known or self.fields))}."
            )
        if isinstance(spec, Constant):
            return true() if _holds(spec, node, self) else false()
        if isinstance(spec, Related):
            positive = Condition(node.field, _positive(node.op), node.value)
            matching = self._column(spec.target, positive)
            owners = spec.owner_id.in_(spec.linked(matching))
            if node.value is None and node.op in ("eq", "ne"):
                # `tags:null`: no tag at all (the positive form matches every link row).
                every = spec.owner_id.in_(spec.linked(true()))
                return not_(every) if (node.op == "eq") != node.negated else every
            return not_(owners) if _is_negative(node) else owners
        return self._column(spec, node)

    def _column(self, spec: Column, node: Condition) -> ColumnElement[bool]:
        column = spec.column
        op = "ne" if node.negated and node.op == "eq" else node.op
        if op in ("in", "nin") or isinstance(node.value, tuple):
            values = node.value if isinstance(node.value, tuple) else (node.value,)
            converted = [self._value(spec, v) for v in values]
            nulls = any(v is None for v in values)
            present = [v for v in converted if v is not None]
            if spec.match is not None:
                condition: ColumnElement[bool] = or_(
                    false(), *(spec.match(column, v) for v in present)
                )
            else:
                condition = column.in_(present) if present else false()
            if nulls:
                condition = or_(condition, column.is_(None))
            negate = node.negated or op == "nin"
            return not_(condition) if negate else condition
        if node.value is None:
            if op not in ("eq", "ne"):
                raise FilterError(f"`null` takes no operator (field `{node.field}`).")
            return column.is_(None) if op == "eq" else column.is_not(None)
        value = self._value(spec, node.value)
        if op in ("contains", "starts", "ends"):
            if spec.type != "text":
                raise FilterError(f"`~` works on text fields, not `{node.field}`.")
            pattern = _like(str(value), op)
            condition = column.ilike(pattern, escape="\\")
            return not_(condition) if node.negated else condition
        if value is None:  # a public value nothing stored can equal (an id of another form)
            return false() if op == "eq" else true()
        if spec.match is not None and op in ("eq", "ne"):
            condition = spec.match(column, value)
            return condition if op == "eq" else not_(condition)
        compare = {"eq": column.__eq__, "ne": column.__ne__, "gt": column.__gt__,
                   "gte": column.__ge__, "lt": column.__lt__, "lte": column.__le__}  # fmt: skip
        return compare[op](value)  # type: ignore[no-any-return]

    def _value(self, spec: Column, value: Value) -> Any:
        if value is None:
            return None
        if spec.type == "time":
            return _time(value, self.now)
        if spec.type == "bool":
            if not isinstance(value, bool):
                raise FilterError(f"Expected true or false, found `{value}`.")
            return value
        if spec.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FilterError(f"Expected a number, found `{value}`.")
            return value
        text = _text(value)
        return spec.convert(text) if spec.convert else text


def _positive(op: Op) -> Op:
    return {"ne": "eq", "nin": "in"}.get(op, op)  # type: ignore[return-value]


def _is_negative(node: Condition) -> bool:
    return node.negated or node.op in ("ne", "nin")


def _holds(spec: Constant, node: Condition, compiler: Compiler) -> bool:
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    if spec.type == "bool":
        wanted = [v for v in values]
    else:
        wanted = [None if v is None else _text(v) for v in values]
    if node.op in ("eq", "in", "ne", "nin"):
        result = spec.value in wanted
        return not result if _is_negative(node) else result
    if node.op in ("contains", "starts", "ends"):
        text = str(spec.value or "")
        needle = _text(values[0]).lower()
        found = {"contains": needle in text.lower(), "starts": text.lower().startswith(needle),
                 "ends": text.lower().endswith(needle)}[node.op]  # fmt: skip
        return not found if node.negated else found
    raise FilterError(f"`{node.field}` cannot be compared with `>` or `<`.")


def _text(value: Value) -> str:
    if isinstance(value, Relative):
        raise FilterError("A relative date is no text value.")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _like(text: str, op: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"contains": f"%{escaped}%", "starts": f"{escaped}%", "ends": f"%{escaped}"}[op]


def _time(value: Value, now: datetime) -> datetime:
    if isinstance(value, Relative):
        return _shift(now, value)
    if isinstance(value, bool | float) or value is None:
        raise FilterError(f"Expected a date, found `{value}`.")
    text = str(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"Expected a date such as 2024-01-31 or now-7d, found `{text}`."
        ) from None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise FilterError(f"The date `{text}` is out of range.") from None


def _shift(now: datetime, relative: Relative) -> datetime:
    amount = relative.sign * relative.amount
    try:
        if relative.unit in ("M", "y"):
            months = now.year * 12 + now.month - 1 + amount * (12 if relative.unit == "y" else 1)
            year, month = divmod(months, 12)
            day = min(now.day, calendar.monthrange(year, month + 1)[1])
            return now.replace(year=year, month=month + 1, day=day)
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[relative.unit]
        return now + timedelta(seconds=amount * seconds)
    except (OverflowError, ValueError):
        raise FilterError("The relative date is out of range.") from None


def compile_filter(
    text: str, fields: Mapping[str, Field], now: datetime, *, known: Sequence[str] = ()
) -> ColumnElement[bool]:
    """The SQL condition of a filter over `fields`, or FilterError."""
    return Compiler(fields, now, known).compile(parse(text))
