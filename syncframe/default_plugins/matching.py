"""The default matching rules, registered last so any plugin can answer first.

In order, the first rule that finds a candidate decides:

(a) **link**: this connector linked the source id to an account earlier → follow it;
(b) **login**: an account's login equals the username (case-insensitive) → adopt;
(c) **local part**: an account's login equals the username's local part
    (``mmustermann`` ↔ ``mmustermann@contoso.onmicrosoft.com``) → adopt and rename;
(d) **e-mail**: an account's e-mail equals the username → adopt and rename.

Rules (c) and (d) both lead to a rename, so they are asked together: two different
accounts found by them are ambiguous. More than one candidate, or a candidate
already linked to another source id, is a conflict that names the candidates; the
planner writes nothing for it. Protected accounts never show up here: the index
leaves them out.
"""

from __future__ import annotations

import shlex

from syncframe import Account, ConnectorContext, Identity, Match, MatchIndex, hookimpl


def _label(account: Account) -> str:
    return account.login


def link_hint(connector: ConnectorContext, identity: Identity, logins: list[str]) -> str:
    """The command that settles an ambiguous match by hand."""
    login = shlex.quote(logins[0]) if len(logins) == 1 else "<" + "|".join(logins) + ">"
    return f"syncframe link {shlex.quote(connector.name)} --source-id {shlex.quote(identity.source_id)} --login {login}"


def _decide(identity: Identity, index: MatchIndex, found: list[tuple[str, str, Account]], connector: ConnectorContext) -> Match | None:
    """One candidate → adopt it; several, or one linked elsewhere → conflict."""
    unique: dict[str, tuple[str, str, Account]] = {}
    for rule, reason, account in found:
        unique.setdefault(account.target_id, (rule, reason, account))
    if not unique:
        return None
    accounts = [a for _, _, a in unique.values()]
    if len(unique) > 1:
        rules = sorted({rule for rule, _, _ in unique.values()})
        names = sorted(_label(a) for a in accounts)
        return Match(
            None,
            f"{len(names)} accounts match {identity.username!r} ({', '.join(names)}); "
            f"link the right one by hand ({link_hint(connector, identity, names)}) or fix the data",
            rule="+".join(rules),
            conflict=True,
            candidates=tuple(names),
        )
    rule, reason, account = next(iter(unique.values()))
    owner = index.linked_source(account)
    if owner is not None and owner != identity.source_id:
        return Match(
            None,
            f"{reason}, but that account is already linked to source id {owner}",
            rule=rule,
            conflict=True,
            candidates=(account.login,),
        )
    return Match(account, reason, rule=rule)


@hookimpl(trylast=True)
def syncframe_match(identity: Identity, index: MatchIndex, connector: ConnectorContext) -> Match | None:
    """Rules (a)-(d); ``None`` when nothing matches (the planner then creates the user)."""
    linked = index.linked_account(identity.source_id)
    if linked is not None:
        return Match(linked, f"linked to {linked.login!r} by an earlier import", rule="link")

    username = identity.username
    found = [("login", f"login {a.login!r} equals the username", a) for a in index.by_login(username)]
    if found:
        return _decide(identity, index, found, connector)

    local, at, _domain = username.partition("@")
    if at and local:
        found += [("local-part", f"login {a.login!r} equals the username's local part", a) for a in index.by_login(local)]
    found += [("email", f"e-mail {a.email!r} of account {a.login!r} equals the username", a) for a in index.by_email(username)]
    return _decide(identity, index, found, connector)
