"""The pascom sandbox: the simulator wrapped as a :class:`syncframe.TargetSandbox`.

Used by ``syncframe demo``/``sandbox``, the end-to-end tests and the benchmark. One
simulator, one instance (``sandbox`` by default); the password reaches the profile
through the environment variable :data:`PASSWORD_ENV`, never the profile itself.
"""

from __future__ import annotations

from typing import Any

from syncframe import TargetSandbox

from .simulator import Instance, PascomSimulator, User

PASSWORD_ENV = "SYNCFRAME_SANDBOX_PASCOM_PASSWORD"


class PascomSandbox(TargetSandbox):
    """A local pascom instance.

    :param instance: The instance name in the URL.
    :param pool: Extension pool for auto-assignment.
    :param seed_admin: Seed the ``admin`` user (role Administrator), like a real instance.
    :param keep_log: Keep every request record (off for long benchmarks; counters stay).
    """

    def __init__(self, instance: str = "sandbox", pool: range = range(100, 1000), seed_admin: bool = True,
                 keep_log: bool = True):
        self.simulator = PascomSimulator(keep_log=keep_log)
        self.instance: Instance = self.simulator.add_instance(instance, pool=pool, seed_admin=seed_admin)

    def start(self) -> None:
        self.simulator.start()

    def stop(self) -> None:
        self.simulator.stop()

    def profile_section(self) -> dict[str, Any]:
        return {
            "url": self.simulator.instance_url(self.instance.name),
            "username": self.instance.username,
            "password_env": PASSWORD_ENV,
            "ca_bundle": self.simulator.ca_bundle,
        }

    def environment(self) -> dict[str, str]:
        return {PASSWORD_ENV: self.instance.password}

    def put_account(
        self, login: str, email: str | None = None, display_name: str = "", password_login: bool = True
    ) -> None:
        """Seed a user as an administrator made it by hand: password login (``mobydick``)
        or external (``EXTERN``), a softphone, a paired mobile device, and an active desktop
        and mobile session. An existing user of that login is replaced."""
        if self.instance.user(login) is not None:
            self.instance.remove_user(login)
        self.instance.seed_user(
            login,
            display_name=display_name or login,
            email=email,
            auth_method="mobydick" if password_login else "EXTERN",
        )

    def make_room(self, users: int) -> None:
        """Grow the extension pool so that ``users`` new users (and as many more) get a number."""
        self.instance.extensions.grow(2 * users)

    def accounts(self) -> list[dict[str, Any]]:
        return [_account(user) for user in self.instance.snapshot()]

    def stats(self) -> dict[str, Any]:
        return self.simulator.counters(self.instance.name)


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "login": user.login,
        "email": user.email,
        "display_name": user.display_name,
        "auth": user.auth_method,
        "enabled": user.enabled,
        "extension": user.extension,
        "roles": list(user.roles),
        "devices": [{"id": d.id, "name": d.name, "type": d.type, "paired": d.paired} for d in user.devices],
        "sessions": [{"id": s.id, "device": s.device_id, "kind": s.kind} for s in user.sessions],
        "phonebook": [dict(e) for e in user.phonebook],
    }
