"""Run search language: tokenizer, parser to a tree, and order_by parser (evaluator: query_eval).

MLflow's search syntax plus OR, NOT and parentheses (precedence NOT > AND > OR)::

    metrics.acc > 0.9 AND (params.optimizer = 'adam' OR tags.`team name` LIKE 'vision%')
    MIN(metrics.loss) < 0.1 AND NOT status IN ('FAILED', 'KILLED')

Identifiers are ``<entity>.<key>`` with entity metrics/params/tags/attributes (or an alias such as
``metric``, ``param``, ``tag``, ``attr``, ``run``); a bare name is an attribute. ``datasets.name``,
``datasets.digest`` and ``datasets.context`` hold when any dataset input of the run matches. The key is
everything after the first dot and may hold ``-`` and ``/`` unquoted (``metrics.val-loss``,
``metrics.train/loss``); a key with spaces or other punctuation is quoted with backticks or double
quotes. Values are numbers or strings in single or double quotes; a doubled quote inside a quoted
string or key stands for one quote (``'it''s'``) and backslashes are kept as typed. An unquoted
number compared with a param, tag or string attribute is the string exactly as typed.

LIKE / ILIKE patterns: ``%`` matches any run of characters, ``_`` exactly one, and the pattern must
match the whole value. A backslash before ``%`` or ``_`` makes it literal (``'100\\%'``); any other
backslash is itself. LIKE is case-sensitive; ILIKE folds ASCII letters only, so that SQL backends
can match it exactly (see ``query_eval.sql_like_pattern``).

Syntax errors raise :class:`InvalidQuery` whose message is one short line, the query, and a caret
under the column of the first problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, NoReturn, TypeAlias

from .exceptions import InvalidQuery

__all__ = [
    "NUMERIC_ATTRIBUTES",
    "STRING_ATTRIBUTES",
    "Aggregate",
    "And",
    "Comparison",
    "Entity",
    "Node",
    "Not",
    "Or",
    "OrderKey",
    "parse_filter",
    "parse_order_by",
]

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]
Aggregate = Literal["latest", "min", "max"]

NUMERIC_ATTRIBUTES: frozenset[str] = frozenset({"start_time", "end_time", "duration", "deleted_time"})
STRING_ATTRIBUTES: frozenset[str] = frozenset(
    "run_id run_name status user_id artifact_uri source_name source_version experiment_id"
    " parent_run_id source_type lifecycle_stage".split()
)
_ATTRIBUTE_LISTING = (
    "run_id, run_name, status, user_id, start_time, end_time, duration, artifact_uri, "
    "source_name, source_version, experiment_id, parent_run_id, source_type, lifecycle_stage, deleted_time"
)
_ATTRIBUTE_ALIASES = {"run name": "run_name", "created": "start_time"}
_NULLABLE_ATTRIBUTES = frozenset({"end_time", "parent_run_id", "source_version", "deleted_time"})
_LISTABLE_ATTRIBUTES = frozenset({"run_id", "status", "user_id", "run_name"})
_ENTITY_PREFIXES = {
    alias: entity
    for entity, aliases in {
        "metric": "metric metrics",
        "param": "param params parameter parameters",
        "tag": "tag tags",
        "attribute": "attribute attributes attr run",
        "dataset": "dataset datasets",
    }.items()
    for alias in aliases.split()
}
_PLURAL = {"metric": "metrics", "param": "params", "tag": "tags", "dataset": "datasets"}
DATASET_KEYS = ("name", "digest", "context")


@dataclass(frozen=True)
class _Schema:
    """What a filter may name: runs (metrics, params, tags, run attributes) or experiments."""

    entities: frozenset[str]
    numeric: frozenset[str]
    strings: frozenset[str]
    listable: frozenset[str]
    nullable: frozenset[str]
    listing: str
    aliases: dict[str, str]
    example: str


_RUNS = _Schema(
    frozenset({"metric", "param", "tag", "attribute", "dataset"}),
    NUMERIC_ATTRIBUTES,
    STRING_ATTRIBUTES,
    _LISTABLE_ATTRIBUTES,
    _NULLABLE_ATTRIBUTES,
    _ATTRIBUTE_LISTING,
    _ATTRIBUTE_ALIASES,
    "metrics.acc",
)
EXPERIMENT_NUMERIC_ATTRIBUTES = frozenset({"creation_time", "last_update_time"})
EXPERIMENT_STRING_ATTRIBUTES = frozenset({"name", "experiment_id", "lifecycle_stage", "artifact_location"})
_EXPERIMENTS = _Schema(
    frozenset({"tag", "attribute"}),
    EXPERIMENT_NUMERIC_ATTRIBUTES,
    EXPERIMENT_STRING_ATTRIBUTES,
    frozenset({"name", "experiment_id"}),
    frozenset(),
    "name, experiment_id, creation_time, last_update_time, lifecycle_stage, artifact_location",
    {"created": "creation_time"},
    "name",
)

_NUMBER_OPS = ("=", "!=", ">", ">=", "<", "<=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS = ("IN", "NOT IN")
_NULL_OPS = ("IS NULL", "IS NOT NULL")
_AGGREGATE_NAMES = frozenset({"LATEST", "MIN", "MAX"})
# Words that can never start a condition (NOT can: it is the unary operator).
_RESERVED = frozenset({"AND", "OR", "IN", "IS", "NULL", "LIKE", "ILIKE"})


@dataclass(frozen=True)
class Comparison:
    """One condition: `<entity>.<key> <op> <value>`; position (not compared) is its column."""

    entity: str
    key: str
    op: str
    value: float | str | tuple[str, ...] | None
    aggregate: str | None = None
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    """All items hold."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one item holds."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The item does not hold (plain complement: also true when the item's key is missing)."""

    item: Node


Node: TypeAlias = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    """One order_by item: entity, key, direction and (for metrics) aggregate."""

    entity: str
    key: str
    ascending: bool = True
    aggregate: str | None = None


# ----------------------------------------------------------------------------- errors


def _error(explanation: str, source: str, position: int) -> InvalidQuery:
    """Build an InvalidQuery: explanation, the query, and a caret under `position`."""
    shown = "".join(" " if char.isspace() else char for char in source)  # keeps columns
    message = f"{explanation}\n{shown}\n{' ' * position}^"
    return InvalidQuery(message, query=source, position=position)


def _fail(explanation: str, source: str, position: int) -> NoReturn:
    raise _error(explanation, source, position)


# ----------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class _Part:
    """One dotted segment of an identifier; quoted segments keep spaces and punctuation."""

    text: str
    quoted: bool
    pos: int


@dataclass(frozen=True)
class _Token:
    kind: str  # IDENT STRING NUMBER OP LPAREN RPAREN COMMA END
    text: str  # source text
    pos: int
    value: str = ""  # content of a STRING
    parts: tuple[_Part, ...] = ()  # segments of an IDENT

    def keyword(self) -> str | None:
        """The upper-cased word when this is a single bare word (a possible keyword)."""
        if self.kind == "IDENT" and len(self.parts) == 1 and not self.parts[0].quoted:
            return self.parts[0].text.upper()
        return None


_NUMBER_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?:infinity|inf|nan)(?![\w.]))",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d]\w*")
_KEY_SEGMENT_RE = re.compile(r"\w[\w/-]*")  # after the prefix: val-loss, train/loss
_DELIMITERS = "()=!<>,'\"`"
_OPERATORS = ("<>", "!=", "==", ">=", "<=", "=", "<", ">")


def _read_quoted(source: str, start: int) -> tuple[str, int]:
    """Read a quoted string or key at `start`; a doubled quote stands for one. Returns (text, end)."""
    quote = source[start]
    chunks: list[str] = []
    pos = start + 1
    while True:
        close = source.find(quote, pos)
        if close < 0:
            _fail(f"Unbalanced quote: missing closing {quote}", source, start)
        chunks.append(source[pos:close])
        if source.startswith(quote, close + 1):
            chunks.append(quote)
            pos = close + 2
            continue
        return "".join(chunks), close + 1


def _read_identifier(source: str, start: int) -> tuple[_Token, int]:
    """Read `prefix.key.more`, `` `quoted`.`key` `` or a bare word."""
    parts: list[_Part] = []
    if source[start] == "`":
        text, pos = _read_quoted(source, start)
        if not text:
            _fail("Empty key: put the name between the backticks", source, start)
        parts.append(_Part(text, True, start))
    else:
        match = _WORD_RE.match(source, start)
        assert match is not None  # the caller checked the first character
        parts.append(_Part(match.group(), False, start))
        pos = match.end()
    while pos < len(source) and source[pos] == ".":
        if len(parts) > 1 and parts[-1].quoted:
            _fail("Unexpected '.' after a quoted key: quote the whole key", source, pos)
        pos += 1
        if source.startswith("'", pos):
            _fail("Single-quoted key: quote keys with backticks or double quotes", source, pos)
        if pos < len(source) and source[pos] in '`"':
            text, end = _read_quoted(source, pos)
            if not text:
                _fail("Empty key: put the name between the quotes", source, pos)
            parts.append(_Part(text, True, pos))
            pos = end
            continue
        segment = _KEY_SEGMENT_RE.match(source, pos)
        if segment is None:
            if len(parts) == 1:
                _fail(f"Empty key after '{source[start:pos]}'", source, pos)
            _fail("Key cannot end with '.': quote it with backticks", source, pos - 1)
        parts.append(_Part(segment.group(), False, pos))
        pos = segment.end()
    return _Token("IDENT", source[start:pos], start, parts=tuple(parts)), pos


def _word_end(source: str, pos: int) -> int:
    """Where the run of characters starting at `pos` ends (at whitespace or a delimiter)."""
    while pos < len(source) and not source[pos].isspace() and source[pos] not in _DELIMITERS:
        pos += 1
    return pos


def _tokenize(source: str) -> list[_Token]:
    """Split a filter or order_by clause into tokens, ending with an END token."""
    tokens: list[_Token] = []
    pos = 0
    while True:
        while pos < len(source) and source[pos].isspace():
            pos += 1
        if pos >= len(source):
            tokens.append(_Token("END", "", len(source)))
            return tokens
        char = source[pos]
        previous = tokens[-1] if tokens else None
        if previous and previous.kind == "IDENT" and previous.pos + len(previous.text) == pos:
            if char not in _DELIMITERS:  # e.g. metrics.val+loss, metrics.a:b
                whole = source[previous.pos : _word_end(source, pos)]
                _fail(
                    f"Unexpected '{char}' in key '{whole}': quote keys with punctuation in backticks",
                    source,
                    pos,
                )
        if char in "(),":
            kind = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}[char]
            tokens.append(_Token(kind, char, pos))
            pos += 1
        elif char in "=!<>":
            op = next((op for op in _OPERATORS if source.startswith(op, pos)), None)
            if op is None:
                _fail(f"Unexpected character '{char}'", source, pos)
            tokens.append(_Token("OP", op, pos))
            pos += len(op)
        elif char in "'\"":
            value, end = _read_quoted(source, pos)
            tokens.append(_Token("STRING", source[pos:end], pos, value=value))
            pos = end
        elif number := _NUMBER_RE.match(source, pos):
            end = number.end()
            if end < len(source) and (source[end].isalnum() or source[end] in "._"):  # 1.2.3, 5abc
                bad = source[pos : _word_end(source, end)]
                _fail(f"Invalid number '{bad}': quote strings, e.g. '{bad}'", source, pos)
            tokens.append(_Token("NUMBER", number.group(), pos))
            pos = end
        elif char == "`" or _WORD_RE.match(source, pos):
            token, pos = _read_identifier(source, pos)
            tokens.append(token)
        else:
            _fail(f"Unexpected character '{char}'", source, pos)


# ----------------------------------------------------------------------------- parser


def _allowed_ops(entity: str, key: str, schema: _Schema = _RUNS) -> tuple[str, ...]:
    """Comparators allowed for an entity (and, for attributes, the attribute)."""
    if entity == "metric":
        return _NUMBER_OPS + _NULL_OPS
    if entity in ("param", "tag"):
        return _STRING_OPS + _LIST_OPS + _NULL_OPS
    if entity == "dataset":
        return _STRING_OPS + _LIST_OPS
    ops: tuple[str, ...] = _NUMBER_OPS if key in schema.numeric else _STRING_OPS
    if key in schema.listable:
        ops += _LIST_OPS
    if key in schema.nullable:
        ops += _NULL_OPS
    return ops


def _combine(kind: type[And] | type[Or], items: list[Node]) -> Node:
    """One item as is; several as `kind`, splicing in items that are already `kind`."""
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


@dataclass(frozen=True)
class _Target:
    """The left-hand side of a condition or an order_by item."""

    entity: str
    key: str
    aggregate: str | None
    text: str


class _Parser:
    """Recursive-descent parser over the tokens of one filter string or order_by clause."""

    def __init__(self, source: str, *, ordering: bool = False, schema: _Schema = _RUNS) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0
        self.ordering = ordering
        self.schema = schema

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.peek()
        self.index += 1
        return token

    def fail(self, explanation: str, position: int) -> NoReturn:
        _fail(explanation, self.source, position)

    def parse_or(self, after: str | None) -> Node:
        items = [self.parse_and(after)]
        while self.peek().keyword() == "OR":
            items.append(self.parse_and(self.advance().text))
        return _combine(Or, items)

    def parse_and(self, after: str | None) -> Node:
        items = [self.parse_not(after)]
        while self.peek().keyword() == "AND":
            items.append(self.parse_not(self.advance().text))
        return _combine(And, items)

    def parse_not(self, after: str | None) -> Node:
        if self.peek().keyword() == "NOT":
            return Not(self.parse_not(self.advance().text))
        if self.peek().kind == "LPAREN":
            opening = self.advance()
            node = self.parse_or("'('")
            closing = self.peek()
            if closing.kind == "END":
                self.fail("Unbalanced parenthesis: '(' is never closed", opening.pos)
            if closing.kind != "RPAREN":
                self.fail(f"Unexpected '{closing.text}': join conditions with AND or OR", closing.pos)
            self.advance()
            return node
        return self.parse_comparison(after)

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind == "RPAREN":
            self.fail("Unbalanced parenthesis: unexpected ')'", token.pos)
        if token.kind != "END":
            self.fail(f"Unexpected '{token.text}': join conditions with AND or OR", token.pos)

    def parse_comparison(self, after: str | None) -> Comparison:
        start = self.peek().pos
        target = self.parse_target(after)
        comparator = self.peek()
        op = self.parse_comparator(target)
        allowed = _allowed_ops(target.entity, target.key, self.schema)
        if op not in allowed:
            listed = " ".join(o for o in allowed if o != "IS NOT NULL")
            if target.entity == "attribute":
                where, who = f"attribute '{target.key}'", f"{target.key} supports"
            else:
                where = who = _PLURAL[target.entity]
                who += " support"
            self.fail(f"Invalid comparator '{op}' for {where}: {who} {listed}", comparator.pos)
        value = self.parse_value(op, target)
        return Comparison(target.entity, target.key, op, value, target.aggregate, position=start)

    def parse_target(self, after: str | None) -> _Target:
        token = self.peek()
        keyword = token.keyword()
        if keyword in _AGGREGATE_NAMES and self.peek(1).kind == "LPAREN":
            self.advance()
            self.advance()
            inner = self.peek()
            entity, key = self.parse_identifier(f"'{keyword}('")
            if entity != "metric":
                self.fail(f"{keyword}() applies to metrics only, e.g. {keyword}(metrics.loss)", inner.pos)
            closing = self.peek()
            if closing.kind != "RPAREN":
                self.fail(f"Expected ')' to close {keyword}(", closing.pos)
            self.advance()
            text = self.source[token.pos : closing.pos + 1]
            return _Target(entity, key, keyword.lower(), text)
        entity, key = self.parse_identifier(after)
        return _Target(entity, key, "latest" if entity == "metric" else None, token.text)

    def parse_identifier(self, after: str | None) -> tuple[str, str]:
        token = self.peek()
        if token.kind == "END":
            self.fail(f"Expected a condition after {after}" if after else "Expected a condition", token.pos)
        if token.kind == "STRING" and token.text.startswith("'"):
            self.fail(
                f"Single-quoted key {token.text}: quote keys with backticks or double quotes",
                token.pos,
            )
        if token.kind == "STRING":  # "run name": double quotes name an attribute, as in SQL
            parts: tuple[_Part, ...] = (_Part(token.value, True, token.pos),)
        elif token.kind == "IDENT" and token.keyword() not in _RESERVED:
            parts = token.parts
        else:
            where = f" after {after}" if after else ""
            self.fail(f"Expected a key such as {self.schema.example}{where}, found '{token.text}'", token.pos)
        self.advance()
        if len(parts) == 1:
            return "attribute", self.attribute_name(parts[0])
        entity = _ENTITY_PREFIXES.get(parts[0].text.lower())
        if entity is None or entity not in self.schema.entities:
            valid = (
                "metrics, params, tags, attributes, datasets" if self.schema is _RUNS else "tags, attributes"
            )
            self.fail(f"Invalid entity type '{parts[0].text}'. Valid: {valid}", parts[0].pos)
        if parts[1].quoted:
            key = parts[1].text
        else:
            key = ".".join(part.text for part in parts[1:])
        if entity == "attribute":
            key = self.attribute_name(_Part(key, parts[1].quoted, parts[1].pos))
        if entity == "dataset":
            if self.ordering:
                self.fail(
                    "Runs cannot be ordered by datasets: order by an attribute, metric, param or tag",
                    token.pos,
                )
            if key.lower() not in DATASET_KEYS:
                self.fail(f"Invalid dataset key '{key}'. Valid: {', '.join(DATASET_KEYS)}", parts[1].pos)
            key = key.lower()
        return entity, key

    def attribute_name(self, part: _Part) -> str:
        name = part.text.lower()
        name = self.schema.aliases.get(name, name)
        if name not in self.schema.numeric and name not in self.schema.strings:
            rule = "Invalid ordering key" if self.ordering else "Invalid attribute key"
            self.fail(f"{rule} '{part.text}'. Valid: {self.schema.listing}", part.pos)
        return name

    def parse_comparator(self, target: _Target) -> str:
        token = self.advance()
        keyword = token.keyword()
        if token.kind == "OP":
            if token.text == "==":
                self.fail("Invalid comparator '==': use =", token.pos)
            return "!=" if token.text == "<>" else token.text
        if keyword in ("LIKE", "ILIKE", "IN"):
            return keyword
        if keyword == "IS":
            negated = self.peek().keyword() == "NOT"
            if negated:
                self.advance()
            if self.peek().keyword() != "NULL":
                self.fail(f"Expected NULL after {'IS NOT' if negated else 'IS'}", self.peek().pos)
            self.advance()
            return "IS NOT NULL" if negated else "IS NULL"
        if keyword == "NOT":
            following = self.peek().keyword()
            if following == "IN":
                self.advance()
                return "NOT IN"
            if following in ("LIKE", "ILIKE"):
                self.fail(
                    f"Invalid comparator 'NOT {following}': write NOT ({target.text} {following} ...)",
                    token.pos,
                )
            self.fail("Expected IN after NOT", self.peek().pos)
        found = f", found '{token.text}'" if token.kind != "END" else ""
        self.fail(f"Missing comparator after '{target.text}'{found}", token.pos)

    def parse_value(self, op: str, target: _Target) -> float | str | tuple[str, ...] | None:
        if op in _NULL_OPS:
            return None
        if op in _LIST_OPS:
            return self.parse_list(op)
        token = self.peek()
        numeric = target.entity == "metric" or (
            target.entity == "attribute" and target.key in self.schema.numeric
        )
        if token.kind == "NUMBER":
            self.advance()
            return _number(token.text, target.entity) if numeric else token.text
        if token.kind == "END" or token.keyword() in _RESERVED | {"NOT"}:
            found = f", found '{token.text}'" if token.kind != "END" else ""
            self.fail(f"Missing value after '{op}'{found}", token.pos)
        if numeric and token.kind in ("STRING", "IDENT"):
            if target.entity == "metric":
                reason = f"metric '{target.key}': metrics compare with numbers"
            else:
                reason = f"attribute '{target.key}': compare it with a number (ms)"
            self.fail(f"Expected numeric value type for {reason}", token.pos)
        if token.kind == "STRING":
            self.advance()
            return token.value
        if token.kind == "IDENT":
            self.fail(f"Expected a quoted value after '{op}', e.g. '{token.text}'", token.pos)
        self.fail(f"Missing value after '{op}', found '{token.text}'", token.pos)

    def parse_list(self, op: str) -> tuple[str, ...]:
        opening = self.peek()
        if opening.kind != "LPAREN":
            self.fail(f"Expected '(' after {op}, e.g. {op} ('a', 'b')", opening.pos)
        self.advance()
        if self.peek().kind == "RPAREN":
            self.fail(f"Empty list after {op}: give at least one value", self.peek().pos)
        values: list[str] = []
        while True:
            token = self.advance()
            if token.kind == "END":
                self.fail("Unbalanced parenthesis: '(' is never closed", opening.pos)
            if token.kind not in ("STRING", "NUMBER"):
                self.fail(f"Expected a quoted value in the {op} list, found '{token.text}'", token.pos)
            values.append(token.value if token.kind == "STRING" else token.text)
            separator = self.advance()
            if separator.kind == "RPAREN":
                return tuple(values)
            if separator.kind == "END":
                self.fail("Unbalanced parenthesis: '(' is never closed", opening.pos)
            if separator.kind != "COMMA":
                self.fail(f"Expected ',' or ')' in the {op} list, found '{separator.text}'", separator.pos)


def _number(text: str, entity: str) -> float:
    """A numeric literal: float for metrics; int when integral for attributes (exact ms)."""
    if entity != "metric" and re.fullmatch(r"[+-]?[0-9]+", text):
        try:
            return int(text)
        except ValueError:  # more digits than int() converts
            pass
    return float(text)


def parse_filter(filter_string: str | None, *, experiments: bool = False) -> Node | None:
    """Parse a search filter into a tree; None or a blank string gives None (match every run).

    experiments=True: a filter over experiments (`name LIKE '/team/%'`, `tags.x = 'y'`, times).
    """
    if filter_string is None or not filter_string.strip():
        return None
    parser = _Parser(filter_string, schema=_EXPERIMENTS if experiments else _RUNS)
    node = parser.parse_or(None)
    parser.expect_end()
    return node


def parse_order_by(order_by: list[str] | None, *, experiments: bool = False) -> list[OrderKey]:
    """Parse order_by items such as `metrics.acc DESC` or `MIN(metrics.loss)`; ASC by default."""
    clauses = [order_by] if isinstance(order_by, str) else order_by or []
    schema = _EXPERIMENTS if experiments else _RUNS
    return [_parse_order_clause(clause, schema) for clause in clauses]


def _parse_order_clause(clause: str, schema: _Schema = _RUNS) -> OrderKey:
    if not clause.strip():
        _fail(f"Invalid order_by clause '{clause}': expected a key such as {schema.example}", clause, 0)
    parser = _Parser(clause, ordering=True, schema=schema)
    target = parser.parse_target(None)
    ascending = True
    direction = parser.peek()
    if direction.keyword() in ("ASC", "DESC"):
        ascending = parser.advance().keyword() == "ASC"
        if parser.peek().kind != "END":
            extra = parser.peek()
            _fail(f"Invalid order_by clause '{clause}': unexpected '{extra.text}'", clause, extra.pos)
    elif direction.kind != "END":
        _fail(
            f"Invalid order_by clause '{clause}': expected ASC or DESC, found '{direction.text}'",
            clause,
            direction.pos,
        )
    return OrderKey(target.entity, target.key, ascending, target.aggregate)
