"""The demo's scenario: a realistic directory and a target that already has users.

Everything here is neutral data (:class:`Identity` records and plain account
seeds); the sandboxes of whichever plugins are installed turn it into their
service's users. The scenario covers what the product page promises:

* most users are in the phone group and are created with devices;
* guests, disabled users and users outside the group stay out of scope;
* ``mmustermann`` exists in the target with a password login; its directory user
  is ``mmustermann@<domain>``: adopted and renamed (with the target's notices);
* a target user whose e-mail is another directory user's username: adopted and renamed;
* one ambiguous case (two target users could be the same person): a conflict.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

from .contracts import SANDBOX_GUEST
from .model import Identity

GIVEN = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Jonas", "Karl", "Lea", "Lukas", "Marie",
    "Noah", "Olivia", "Paul", "Sophie", "Tim", "Ute", "Vera", "Wolfgang", "Yusuf", "Zoe", "Liam", "Mia", "Elias",
    "Lina", "Finn", "Ida", "Theo", "Nora", "Moritz", "Amelie", "Jakob", "Ella", "Oskar", "Frieda", "Anton",
)
FAMILY = (
    "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Bauer",
    "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Werner", "Krause", "Lehmann", "Köhler", "Maier", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller",
)
DEPARTMENTS = ("Sales", "Support", "Engineering", "Finance", "Marketing", "Operations", "Human Resources")
TITLES = ("Account Manager", "Support Engineer", "Developer", "Accountant", "Team Lead", "Consultant", "Assistant")
PHONE_GROUP = "Telephony"


def ascii_login(text: str) -> str:
    return text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


@dataclass
class AccountSeed:
    """A user the target already has before the first import."""

    login: str
    email: str | None
    display_name: str
    password_login: bool = True


@dataclass
class Scenario:
    domain: str
    identities: list[Identity]
    accounts: list[AccountSeed]
    group: str = PHONE_GROUP
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def by_username(self, username: str) -> Identity:
        return next(i for i in self.identities if i.username == username)


def person(rng: random.Random, domain: str, used: set[str], groups: tuple[str, ...] = (PHONE_GROUP,)) -> Identity:
    """A realistic member of the directory, unique by username."""
    while True:
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        local = ascii_login(f"{given}.{family}")
        n = 1
        candidate = local
        while candidate in used:
            n += 1
            candidate = f"{local}{n}"
        used.add(candidate)
        break
    extension = rng.randrange(100, 999)
    return Identity(
        source_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        username=f"{candidate}@{domain}",
        display_name=f"{given} {family}",
        given_name=given,
        surname=family,
        email=f"{candidate}@{domain}",
        phones=(f"+49 89 1234{extension}",),
        mobile_phone=f"+49 170 {rng.randrange(1000000, 9999999)}" if rng.random() < 0.6 else None,
        job_title=rng.choice(TITLES),
        department=rng.choice(DEPARTMENTS),
        preferred_language=rng.choice(("de-DE", "en-US")),
        groups=groups,
    )


def build(users: int = 250, domain: str = "contoso.com", seed: int = 7) -> Scenario:
    """A directory of ``users`` people plus the special cases above."""
    rng = random.Random(seed)
    used: set[str] = {"mmustermann", "erika.schmidt", "jdoe"}
    special = [
        Identity(source_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), username=f"mmustermann@{domain}",
                 display_name="Max Mustermann", given_name="Max", surname="Mustermann", email=f"max.mustermann@{domain}",
                 phones=("+49 89 1234500",), groups=(PHONE_GROUP,)),
        Identity(source_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), username=f"erika.schmidt@{domain}",
                 display_name="Erika Schmidt", given_name="Erika", surname="Schmidt", email=f"erika.schmidt@{domain}",
                 groups=(PHONE_GROUP,)),
        Identity(source_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), username=f"jdoe@{domain}",
                 display_name="John Doe", given_name="John", surname="Doe", email=f"jdoe@{domain}", groups=(PHONE_GROUP,)),
    ]
    people: list[Identity] = list(special)
    regular = max(0, users - len(special))
    for index in range(regular):
        roll = index % 25
        identity = person(rng, domain, used)
        if roll == 3:  # a guest from a partner company
            local = identity.username.split("@")[0]
            identity = identity.replace(username=f"{local}.partner@{domain}", email=f"{local}@partner.example", extra={SANDBOX_GUEST: True})
        elif roll == 7:  # left the company, account disabled
            identity = identity.replace(enabled=False)
        elif roll == 11:  # not in the phone group
            identity = identity.replace(groups=())
        people.append(identity)
    accounts = [
        AccountSeed("mmustermann", None, "Max Mustermann"),
        # the e-mail is the directory user's username (rule: e-mail == username)
        AccountSeed("eschmidt", f"erika.schmidt@{domain}", "Erika Schmidt"),
        # two target users carry John Doe's username as e-mail -> conflict, nothing written
        AccountSeed("john.doe", f"jdoe@{domain}", "John Doe"),
        AccountSeed("doe.john", f"jdoe@{domain}", "John Doe (old)"),
        # somebody the directory does not know; never touched
        AccountSeed("reception", "reception@example.org", "Reception desk"),
    ]
    return Scenario(domain=domain, identities=people, accounts=accounts, rng=rng)


@dataclass
class Changes:
    """What happens in the directory between the demo's first and second run."""

    renamed: list[tuple[Identity, Identity]]
    deleted: list[Identity]
    added: list[Identity]
    disabled: list[Identity]


def changes(scenario: Scenario, added: int = 5) -> Changes:
    """Rename one user, delete one, add a few, disable one (all in the phone group)."""
    in_group = [i for i in scenario.identities[3:] if not i.extra.get(SANDBOX_GUEST) and i.enabled and PHONE_GROUP in i.groups]
    renamed_old = in_group[0]
    local = renamed_old.username.split("@")[0]
    renamed_new = renamed_old.replace(username=f"{local}.new@{scenario.domain}", email=f"{local}.new@{scenario.domain}")
    used = {i.username.split("@")[0] for i in scenario.identities}
    new_people = [person(scenario.rng, scenario.domain, used) for _ in range(added)]
    return Changes(
        renamed=[(renamed_old, renamed_new)],
        deleted=[in_group[1]],
        added=new_people,
        disabled=[in_group[2].replace(enabled=False)],
    )
