"""The planner's fast validation path agrees with the marshmallow schema: whatever
it accepts, the schema accepts and returns unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from syncframe import Identity
from syncframe.engine.validate import fast_validate, is_plainly_valid, validate
from syncframe.schemas import validate_identity

_text = st.text(st.characters(codec="utf-8"), max_size=12)
_maybe = st.one_of(st.none(), _text)
_upn = st.one_of(
    st.from_regex(r"[a-z0-9._'-]{1,10}@[a-z0-9-]{1,8}\.[a-z]{2,4}", fullmatch=True),
    _text,
    st.just(" max@contoso.com"),
    st.just("Ma\u0301x@contoso.com"),  # not NFC
)
_phone = st.one_of(st.from_regex(r"\+?[0-9]{1,12}", fullmatch=True), st.just("+49 30 1234"), st.just("+4930\n"), st.just(""), _text)

identities = st.builds(
    Identity,
    source_id=st.one_of(st.uuids().map(str), st.just("")),
    username=_upn,
    display_name=_text,
    given_name=_maybe,
    surname=_maybe,
    email=st.one_of(st.none(), st.just(""), _upn),
    phones=st.lists(_phone, max_size=2).map(tuple),
    mobile_phone=st.one_of(st.none(), _phone),
    job_title=_maybe,
    department=_maybe,
    preferred_language=st.one_of(st.none(), st.text(max_size=40)),
    enabled=st.booleans(),
    out_of_scope=st.one_of(st.none(), st.just("out of scope: a test")),
    groups=st.lists(st.text(max_size=5), max_size=2).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(identities)
def test_the_fast_path_never_accepts_what_the_schema_would_change_or_refuse(identity: Identity) -> None:
    if is_plainly_valid(identity):
        normalised, errors = validate_identity(identity)
        assert errors == {}
        assert normalised == identity


@settings(max_examples=100, deadline=None)
@given(identities)
def test_validate_answers_as_the_schema_does(identity: Identity) -> None:
    ours, our_errors = validate(identity)
    theirs, their_errors = validate_identity(identity)
    assert ours == theirs
    assert our_errors == their_errors


def test_common_records_take_the_fast_path() -> None:
    plain = Identity("1", "max@contoso.com", "Max Mustermann", email="max@contoso.com", phones=("+4930123",), department="Vertrieb")
    assert is_plainly_valid(plain)
    assert is_plainly_valid(plain.replace(display_name="Jürgen Groß"))
    assert not is_plainly_valid(plain.replace(mobile_phone="+49 30 123"))  # the schema normalises it: slow path


@settings(max_examples=150, deadline=None)
@given(identities)
def test_the_fast_path_normalises_exactly_as_the_schema_does(identity: Identity) -> None:
    fast = fast_validate(identity)
    if fast is not None:
        assert validate_identity(identity) == (fast, {})


def test_formatted_phone_numbers_stay_on_the_fast_path() -> None:
    raw = Identity("1", "max@contoso.com", "Max", phones=("+49 30 294939-4278", ""), mobile_phone="(0150) 587 2711", email="")
    fast = fast_validate(raw)
    assert fast is not None and fast.phones == ("+49302949394278",) and fast.mobile_phone == "01505872711" and fast.email is None
    assert validate_identity(raw) == (fast, {})
