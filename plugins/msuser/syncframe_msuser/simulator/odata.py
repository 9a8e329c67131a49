"""OData query options as Graph's directory service understands them.

``$select`` / ``$top`` validation, a small ``$filter`` parser for the forms a sync
uses (``eq``, ``in``, ``startswith``, ``and``/``or``; ``ne``/``not``/``endswith``
only as advanced queries), and opaque, tamper-evident state tokens for
``$skiptoken`` / ``$deltatoken``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any, Callable

from .schema import GROUP_PROPERTIES, USER_PROPERTIES


class GraphError(Exception):
    """An error answered in Graph's envelope: ``{"error": {"code", "message", "innerError"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def unsupported_query(message: str = "Unsupported Query.") -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


# ---------------------------------------------------------------------- $select / $top


def parse_select(raw: str | None, properties: dict[str, tuple[str, bool]] = USER_PROPERTIES,
                 type_name: str = "microsoft.graph.user") -> list[str] | None:
    """The names in ``$select`` (order kept, duplicates dropped), or None when absent.

    Names of other directory object types (the service's ``description`` on users, as in
    Microsoft's own example) are accepted and simply not returned; unknown names are a 400.
    """
    if raw is None:
        return None
    names: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        if name not in properties and name not in USER_PROPERTIES and name not in GROUP_PROPERTIES:
            raise bad_request(f"Could not find a property named '{name}' on type '{type_name}'.")
        if name not in names:
            names.append(name)
    if not names:
        raise bad_request("Invalid $select properties.")
    return names


def parse_top(raw: str | None, default: int, maximum: int = 999) -> int:
    """``$top`` as Graph checks it for directory objects (1..999)."""
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.") from None
    if not 1 <= value <= maximum:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.")
    return value


def parse_orderby(raw: str) -> tuple[str, bool]:
    """``$orderby=displayName desc`` -> ("displayName", True); one user property only."""
    parts = raw.split()
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise bad_request(f"Invalid $orderby expression '{raw}'.")
    if parts[0] not in USER_PROPERTIES:
        raise bad_request(f"Could not find a property named '{parts[0]}' on type 'microsoft.graph.user'.")
    return parts[0], len(parts) == 2 and parts[1].lower() == "desc"


_SEARCH_CLAUSE = re.compile(r'"(?P<prop>[A-Za-z]+):(?P<term>[^"]*)"|(?P<op>AND|OR)', re.IGNORECASE)


def parse_search(raw: str) -> Callable[[dict], bool]:
    """``$search="displayName:wa" OR "mail:wa"``: a word of the property starts with the term.

    ``AND`` binds tighter than ``OR``, as in the service's search syntax.
    """
    groups: list[list[tuple[str, str]]] = [[]]
    position = 0
    text = raw.strip()
    for match in _SEARCH_CLAUSE.finditer(text):
        if text[position:match.start()].strip():
            raise bad_request("Syntax error: character '\"' is not valid at position 0 in '" + raw + "'.")
        position = match.end()
        if match.group("op"):
            if match.group("op").upper() == "OR":
                groups.append([])
            continue
        prop = match.group("prop")
        if prop not in USER_PROPERTIES:
            raise bad_request(f"Could not find a property named '{prop}' on type 'microsoft.graph.user'.")
        groups[-1].append((prop, match.group("term").lower()))
    if text[position:].strip() or not any(groups):
        raise bad_request(f"Syntax error: the $search value '{raw}' must be \"property:term\" clauses.")

    def word_starts(value: Any, term: str) -> bool:
        if not isinstance(value, str):
            return False
        return any(word.startswith(term) for word in re.split(r"[^\w]+", value.lower()) if word) or value.lower().startswith(term)

    return lambda user: any(all(word_starts(user.get(p), t) for p, t in group) for group in groups if group)


# ---------------------------------------------------------------------- $filter

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w./]*))"
)
_ADVANCED = {"ne", "not", "endswith"}
#: values an ``in`` may list without advanced query parameters
MAX_IN_VALUES = 15


class _Parser:
    """Recursive descent over the tokens; builds a predicate ``user dict -> bool``."""

    def __init__(self, text: str, known: dict[str, tuple[str, bool]]):
        self.known = known
        self.tokens: list[tuple[str, Any]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise bad_request(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
            pos = match.end()
            kind = match.lastgroup
            value = match.group(kind)
            if kind == "str":
                self.tokens.append(("lit", value[1:-1].replace("''", "'")))
            elif kind == "num":
                self.tokens.append(("lit", float(value) if "." in value else int(value)))
            elif kind == "word" and value in ("true", "false", "null"):
                self.tokens.append(("lit", {"true": True, "false": False, "null": None}[value]))
            else:
                self.tokens.append((kind, value))
        self.pos = 0
        self.used: set[str] = set()
        self.properties: set[str] = set()
        self.widest_in = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value and str(token[1]).lower() != value):
            raise bad_request("Invalid filter clause: syntax error.")
        self.pos += 1
        return token

    def word_is(self, *words: str) -> str | None:
        token = self.peek()
        if token and token[0] == "word" and token[1].lower() in words:
            return token[1].lower()
        return None

    def expr(self) -> Callable[[dict], bool]:
        left = self.conj()
        while self.word_is("or"):
            self.take()
            right = self.conj()
            left = (lambda a, b: lambda u: a(u) or b(u))(left, right)
        return left

    def conj(self) -> Callable[[dict], bool]:
        left = self.unary()
        while self.word_is("and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda u: a(u) and b(u))(left, right)
        return left

    def unary(self) -> Callable[[dict], bool]:
        if self.word_is("not"):
            self.take()
            self.used.add("not")
            inner = self.unary()
            return lambda u: not inner(u)
        token = self.peek()
        if token == ("punct", "("):
            self.take()
            inner = self.expr()
            self.take("punct", ")")
            return inner
        function = self.word_is("startswith", "endswith")
        if function:
            self.take()
            self.used.add(function)
            self.take("punct", "(")
            prop = self.prop()
            self.take("punct", ",")
            literal = self.take("lit")[1]
            self.take("punct", ")")
            if not isinstance(literal, str):
                raise bad_request(f"Invalid filter clause: {function} needs a string.")
            needle = literal.lower()
            if function == "startswith":
                return lambda u: isinstance(u.get(prop), str) and u[prop].lower().startswith(needle)
            return lambda u: isinstance(u.get(prop), str) and u[prop].lower().endswith(needle)
        prop = self.prop()
        operator = self.word_is("eq", "ne", "in", "ge", "le")
        if operator is None:
            raise bad_request("Invalid filter clause: an operator (eq, ne, in, ge, le) was expected.")
        self.take()
        self.used.add(operator)
        if operator == "in":
            self.take("punct", "(")
            values = [self.take("lit")[1]]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.take("lit")[1])
            self.take("punct", ")")
            self.widest_in = max(self.widest_in, len(values))
            wanted = {_fold(v) for v in values}
            return lambda u: _fold(u.get(prop)) in wanted
        literal = _fold(self.take("lit")[1])
        if operator == "eq":
            return lambda u: _fold(u.get(prop)) == literal
        if operator == "ne":
            return lambda u: _fold(u.get(prop)) != literal
        if operator == "ge":
            return lambda u: u.get(prop) is not None and _fold(u.get(prop)) >= literal
        return lambda u: u.get(prop) is not None and _fold(u.get(prop)) <= literal

    def prop(self) -> str:
        name = self.take("word")[1]
        if name not in self.known:
            raise bad_request(f"Property '{name}' does not exist as a declared property or extension property.")
        self.properties.add(name)
        return name


def _fold(value: Any) -> Any:
    """Directory string comparisons ignore case."""
    return value.lower() if isinstance(value, str) else value


class Filter:
    """A parsed ``$filter``: ``matches(user)``, the ``operators`` and ``properties`` used."""

    def __init__(self, text: str, properties: dict[str, tuple[str, bool]] = USER_PROPERTIES):
        parser = _Parser(text, properties)
        self.matches = parser.expr()
        if parser.peek() is not None:
            raise bad_request("Invalid filter clause: syntax error.")
        self.text = text
        self.operators = frozenset(parser.used)
        self.properties = frozenset(parser.properties)
        self.advanced = bool(self.operators & _ADVANCED)
        self.widest_in = parser.widest_in

    def require_allowed(self, advanced_query: bool) -> None:
        """Advanced operators need ``ConsistencyLevel: eventual`` and ``$count=true``; so does
        an ``in`` with more than 15 values."""
        if self.widest_in > MAX_IN_VALUES and not advanced_query:
            raise unsupported_query(
                f"Too many child clauses specified in search filter expression containing 'OR' operators: "
                f"{self.widest_in}. Max allowed: {MAX_IN_VALUES}."
            )
        if self.advanced and not advanced_query:
            if "ne" in self.operators:
                raise unsupported_query("Unsupported property filter clause operator 'NotEqualsMatch'.")
            raise unsupported_query()


_ID_EQ = re.compile(r"^\s*id\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)


def delta_filter_ids(text: str) -> list[str]:
    """The only ``$filter`` delta supports: ``id eq '..' or id eq '..'`` (at most 50)."""
    ids = []
    for clause in re.split(r"\s+or\s+", text.strip(), flags=re.IGNORECASE):
        match = _ID_EQ.match(clause)
        if not match:
            raise unsupported_query()
        ids.append(match.group(1))
    if len(ids) > 50:
        raise unsupported_query("Unsupported Query. The number of id filters exceeds the maximum of 50.")
    return ids


# ---------------------------------------------------------------------- state tokens


class StateTokens:
    """Opaque, signed tokens carrying paging / sync state (``$skiptoken``, ``$deltatoken``).

    They look like the service's (base64url, no padding) and a forged or foreign token
    fails to decode instead of being trusted.
    """

    def __init__(self, secret: bytes):
        self._secret = secret

    def encode(self, prefix: bytes, payload: dict[str, Any]) -> str:
        body = prefix + json.dumps(payload, separators=(",", ":")).encode()
        mac = hmac.new(self._secret, body, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode()

    def decode(self, prefix: bytes, token: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        body, mac = raw[:-12], raw[-12:]
        if not body.startswith(prefix) or not hmac.compare_digest(mac, hmac.new(self._secret, body, hashlib.sha256).digest()[:12]):
            return None
        try:
            payload = json.loads(body[len(prefix):])
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None
