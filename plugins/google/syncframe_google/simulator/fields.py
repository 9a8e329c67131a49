"""Google's partial-response ``fields`` parameter: parse it, apply it to a JSON answer.

Syntax (as the Directory API takes it): a comma-separated list of selections; ``a/b``
selects ``b`` inside ``a``; ``a(b,c)`` selects ``b`` and ``c`` inside ``a``;
``*`` selects everything at its level. Inside arrays a selection applies to each item.
"""

from __future__ import annotations

from typing import Any

#: a parsed selection: field name -> what to keep inside it (None: all of it)
Selection = dict[str, "Selection | None"]


class FieldsError(ValueError):
    """The ``fields`` parameter cannot be parsed."""


def parse(text: str) -> Selection:
    selection, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise FieldsError(f"Invalid field selection {text}")
    return selection


def _parse_list(text: str, pos: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while pos < len(text):
        start = pos
        while pos < len(text) and text[pos] not in ",()":
            pos += 1
        path = text[start:pos]
        if not path:
            raise FieldsError(f"Invalid field selection {text}")
        sub: Selection | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise FieldsError(f"Invalid field selection {text}")
            pos += 1
        _merge(selection, path.split("/"), sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        break
    return selection, pos


def _merge(selection: Selection, parts: list[str], sub: Selection | None) -> None:
    head, rest = parts[0], parts[1:]
    if not head:
        raise FieldsError("Invalid field selection: empty name")
    if rest:
        inner = selection.get(head, {})
        if inner is None:
            return  # already all of it
        selection[head] = inner
        _merge(inner, rest, sub)
        return
    if head not in selection:
        selection[head] = sub
    elif selection[head] is None or sub is None:
        selection[head] = None  # one of the two asks for all of it
    else:
        selection[head].update(sub)  # type: ignore[union-attr]


def apply(value: Any, selection: Selection | None) -> Any:
    """``value`` with only the selected parts."""
    if selection is None:
        return value
    if isinstance(value, list):
        return [apply(v, selection) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in selection:
        return {k: apply(v, selection.get(k)) if k in selection else v for k, v in value.items()}
    return {k: apply(value[k], sub) for k, sub in selection.items() if k in value}
