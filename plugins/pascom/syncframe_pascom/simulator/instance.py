"""One simulated pascom instance: its users, extension pool, credentials and switches.

Every operation takes the instance lock, so concurrent requests see each write at
once and completely (writes take effect at once, A). Lookups by login and id are
O(1); the serialised user list is cached until the next write.
"""

from __future__ import annotations

import copy
import gc
import json
import secrets
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from . import validation
from .errors import ApiError, bad_request, conflict, not_found
from .extensions import ExtensionPool
from .model import DESKTOP, MOBILE, SOFTPHONE, Device, Session, User, mobile_name, softphone_name
from .switches import Switches

#: the base role every user has; implicit, never listed in ``user_roles`` (D)
BASE_ROLE = "All"
ADMIN_ROLE = "Administrator"
DEFAULT_ROLES = (ADMIN_ROLE, "Users")
#: "leave the devices' ``paired`` as it is" (None is a value a test may want)
_KEEP = object()


class Instance:
    """A pascom instance as the REST API sees it (``/<name>/services/...``).

    :param name: The instance segment of the URL.
    :param password: The REST password of user ``username``; generated when None.
    :param pool: The numbers auto-assigned extensions are drawn from (lowest free first).
    :param roles: The role catalogue (``"All"`` is implicit).
    :param strict_roles: When True an unknown role answers 400 ``UNKNOWN_ROLE``;
        otherwise it is added to the catalogue.
    :param seed_admin: Seed ``admin`` (display "Administrator", role "Administrator").
    """

    def __init__(
        self,
        name: str,
        password: str | None = None,
        pool: range = range(100, 1000),
        username: str = "moby",
        roles: Iterable[str] = DEFAULT_ROLES,
        strict_roles: bool = False,
        seed_admin: bool = True,
    ):
        self.name = name
        self.username = username
        self.password = password or secrets.token_urlsafe(18)
        self.switches = Switches()
        self.roles: set[str] = set(roles)
        self.strict_roles = strict_roles
        self.extensions = ExtensionPool(pool)
        self._lock = threading.RLock()
        self._by_id: dict[int, User] = {}
        self._by_login: dict[str, User] = {}
        self._next_user_id = 1
        self._next_device_id = 1
        self._next_session_id = 1
        self._list_cache: bytes | None = None
        self._shape: AnswerShape | None = None
        if seed_admin:
            self.roles.add(ADMIN_ROLE)
            self.seed_user("admin", display_name="Administrator", roles=[ADMIN_ROLE], mobile=False,
                           sessions=())

    # --- Python API (tests, sandbox, benchmark) -----------------------------------

    @property
    def users(self) -> Mapping[str, User]:
        """Login -> :class:`User`, read-only view. Do not mutate the users."""
        return MappingProxyType(self._by_login)

    def user(self, login: str) -> User | None:
        return self._by_login.get(login)

    def copy_as(self, name: str) -> "Instance":
        """A new instance ``name`` with a copy of this one's users, devices, sessions,
        extensions and password (same ids): the benchmark fills many instances with one
        import instead of one each."""
        with self._lock:
            twin = Instance(name, password=self.password, pool=self.extensions.pool, username=self.username,
                            roles=self.roles, strict_roles=self.strict_roles, seed_admin=False)
            twin._by_id = copy.deepcopy(self._by_id)
            twin._by_login = {user.login: user for user in twin._by_id.values()}
            twin._next_user_id, twin._next_device_id, twin._next_session_id = (
                self._next_user_id, self._next_device_id, self._next_session_id)
            twin.extensions = copy.deepcopy(self.extensions)
            twin._shape = self._shape
            return twin

    def snapshot(self) -> list[User]:
        """Every user, ordered by id, taken under the lock."""
        with self._lock:
            return list(self._by_id.values())

    def seed_user(
        self,
        login: str,
        display_name: str = "",
        email: str | None = None,
        auth_method: str = "mobydick",
        password: str | None = None,
        extension: str | None = None,
        roles: Iterable[str] = (),
        enabled: bool = True,
        pin: str | None = None,
        softphone: bool = True,
        mobile: bool = True,
        mobile_paired: bool = True,
        mobile_number: str | None = None,
        sessions: Iterable[str] = (DESKTOP, MOBILE),
        phonebook: list[dict[str, Any]] | None = None,
    ) -> User:
        """Add a user as an administrator would have made it by hand (no HTTP, not counted).

        By default: a softphone, a paired mobile device, and an active desktop and
        mobile session. A ``mobydick`` user without a password gets a random one.
        Raises :class:`ApiError` (400/409) on invalid or duplicate values.
        """
        fields: dict[str, Any] = {
            "003use_name": login,
            "003use_bez": display_name or login,
            "003use_auth_method": auth_method,
            "003use_enabled": enabled,
            "016voi_email": email,
            "user_roles": list(roles),
            "post": {"phonebook": phonebook or []},
        }
        if extension is not None:
            fields["009ext_extension"] = extension
        if pin is not None:
            fields["011acc_pin"] = pin
        if auth_method == "mobydick":
            fields["003use_pw"] = password or secrets.token_urlsafe(12)
        if softphone:
            fields["post"]["ipdevice.mdsoftphone"] = [{}]
        if mobile:
            fields["post"]["ipdevice.mobile"] = [{"mobile": mobile_number}]
        with self._lock:
            (user,) = self._create([validation.identity_fields(fields, create=True)])
            for dev in user.devices:
                if dev.type == MOBILE:
                    dev.paired = mobile_paired
            for kind in sessions:
                self._open_session(user, kind)
            user.touch()
            return user

    def seed_users(self, specs: Iterable[Mapping[str, Any]]) -> int:
        """Seed many users, each ``spec`` the keyword arguments of :meth:`seed_user`.

        For benchmarks: the cyclic garbage collector is paused meanwhile (the records
        make no cycles; with 100,000 users it would otherwise cost more than the work),
        and each user's JSON is made now, so the first list is quick. Returns the count.
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            count = 0
            for spec in specs:
                self.seed_user(**spec).wire_bytes()
                count += 1
            return count
        finally:
            if paused:
                gc.enable()

    def pair_mobile(self, login: str) -> None:
        """The user pairs the mobile app: mobile devices paired, a mobile session opened."""
        with self._lock:
            user = self._get(login)
            for dev in user.devices:
                if dev.type == MOBILE:
                    dev.paired = True
            self._open_session(user, MOBILE)
            self._changed(user)

    def remove_user(self, login: str) -> None:
        """Delete a user without HTTP."""
        self.delete(login)

    def reshape_answers(
        self, omit: Iterable[str] = (), replace: Mapping[str, Any] | None = None, device_paired: Any = _KEEP
    ) -> None:
        """Answer like an instance whose identity objects differ from the assumed ones:
        without the fields ``omit``, with ``replace``'s values, with every device's
        ``paired`` set to ``device_paired``. ``reshape_answers()`` goes back to normal."""
        shape = AnswerShape(frozenset(omit), dict(replace or {}), device_paired)
        self._shape = None if shape.is_plain() else shape

    def reshaped(self, body: bytes) -> bytes:
        """An answer holding identity objects (a list, one, or ``{"identity": [...]}``) as shaped."""
        shape = self._shape
        return body if shape is None else shape.apply(body)

    def _open_session(self, user: User, kind: str) -> None:
        want = SOFTPHONE if kind == DESKTOP else MOBILE
        device = next((d for d in user.devices if d.type == want and (kind == DESKTOP or d.paired)), None)
        if device is None:
            return  # no device to be signed in on (or the mobile is not paired)
        user.sessions.append(Session(self._next_session_id, device.id, kind))
        self._next_session_id += 1

    # --- REST operations (raise ApiError) ---------------------------------------

    def list_json(self) -> bytes:
        """``GET identity/``: the whole list as JSON bytes, cached until the next write."""
        cached = self._list_cache
        if cached is not None:
            return cached
        with self._lock:
            if self._list_cache is None:
                self._list_cache = b"[" + b",".join(u.wire_bytes() for u in self._by_id.values()) + b"]"
            return self._list_cache

    def get_json(self, login: str) -> bytes:
        with self._lock:
            return self._get(login).wire_bytes()

    def create(self, body: Any) -> bytes:
        """``POST identity/`` with an IO-Framework document, all or nothing; the 201 body."""
        if not isinstance(body, dict):
            raise bad_request("INVALID_BODY", 'body must be {"identity": [...]}')
        validation.check_keys(body, ("identity",))
        entries = body.get("identity")
        if not isinstance(entries, list) or not entries:
            raise bad_request("INVALID_BODY", 'body must be {"identity": [<one or more identities>]}', "identity")
        fields = [validation.identity_fields(entry, create=True) for entry in entries]
        with self._lock:
            # serialised once: the same bytes serve the list later
            return b'{"identity":[' + b",".join(u.wire_bytes() for u in self._create(fields)) + b"]}"

    def update(self, login: str, body: Any) -> bytes:
        """``PUT identity/<login>``: change the given fields (a new ``003use_name`` renames);
        the 200 body."""
        fields = validation.identity_fields(body, create=False)
        with self._lock:
            user = self._get(login)
            new_login = fields.get("003use_name", user.login)
            if new_login != user.login and new_login in self._by_login:
                raise conflict("LOGIN_EXISTS", f"login {new_login} exists", "003use_name")
            new_ext = fields.get("009ext_extension", user.extension)
            if new_ext != user.extension and new_ext in self.extensions:
                raise conflict("EXTENSION_EXISTS", f"extension {new_ext} is taken", "009ext_extension")
            auth = fields.get("003use_auth_method", user.auth_method)
            if auth == "SSO" and "003use_pw" in fields:
                raise bad_request("PASSWORD_NOT_ALLOWED", "SSO users have no pascom password", "003use_pw")
            self._check_roles(fields)
            # all checks passed: apply
            if new_login != user.login:
                del self._by_login[user.login]
                user.login = new_login
                self._by_login[new_login] = user
                user.unpair_mobile()  # S: a renamed user must pair the app again
            if new_ext != user.extension:
                self.extensions.release(user.extension)
                self.extensions.take(new_ext)
                user.extension = new_ext
            user.display_name = fields.get("003use_bez", user.display_name)
            user.auth_method = auth
            user.enabled = fields.get("003use_enabled", user.enabled)
            if "016voi_email" in fields:
                user.email = fields["016voi_email"]
            if "011acc_pin" in fields:
                user.pin = fields["011acc_pin"]
            if "003use_pw" in fields:
                user.password = fields["003use_pw"]
            if auth == "SSO":
                user.password = None
            if "user_roles" in fields:
                user.roles = _roles(fields["user_roles"])
                self.roles.update(user.roles)
            if "phonebook" in fields:
                user.phonebook = fields["phonebook"]
            self._changed(user)
            return user.wire_bytes()

    def delete(self, login: str) -> None:
        with self._lock:
            user = self._get(login)
            del self._by_login[login]
            del self._by_id[user.id]
            self.extensions.release(user.extension)
            self._list_cache = None

    def add_device(self, login: str, body: Any) -> dict[str, Any]:
        """``POST identity/<login>/devices``."""
        fields = validation.device_body(body)
        with self._lock:
            user = self._get(login)
            device = self._new_device(user, fields["type"], fields["010dev_bez"], fields["mobile"])
            self._changed(user)
            return device.wire()

    def remove_device(self, login: str, device_id: int) -> None:
        """``DELETE identity/<login>/devices/<010dev_id>`` (A): the device and its sessions go."""
        with self._lock:
            user = self._get(login)
            if user.device(device_id) is None:
                raise not_found(f"device {device_id} of identity {login}")
            user.devices = [d for d in user.devices if d.id != device_id]
            user.sessions = [s for s in user.sessions if s.device_id != device_id]
            self._changed(user)

    def sessions(self, login: str) -> list[dict[str, Any]]:
        with self._lock:
            return self._get(login).session_wire()

    def end_sessions(self, login: str) -> None:
        """``DELETE identity/<login>/sessions``: end every session, remove the mobile pairing."""
        with self._lock:
            user = self._get(login)
            user.unpair_mobile()
            user.sessions.clear()
            self._changed(user)

    # --- internals ----------------------------------------------------------------

    def _get(self, login: str) -> User:
        user = self._by_login.get(login)
        if user is None:
            raise not_found(f"identity {login}")
        return user

    def _changed(self, user: User) -> None:
        user.touch()
        self._list_cache = None

    def _check_roles(self, fields: Mapping[str, Any]) -> None:
        for role in fields.get("user_roles", ()):
            if role != BASE_ROLE and role not in self.roles:
                if self.strict_roles:
                    raise bad_request("UNKNOWN_ROLE", f"role {role} does not exist", "user_roles")

    def _create(self, batch: list[dict[str, Any]]) -> list[User]:
        """Check the whole batch, then create it (caller holds the lock)."""
        logins: set[str] = set()
        explicit: set[str] = set()
        auto = 0
        for fields in batch:
            login = fields["003use_name"]
            if login in self._by_login or login in logins:
                raise conflict("LOGIN_EXISTS", f"login {login} exists", "003use_name")
            logins.add(login)
            ext = fields.get("009ext_extension")
            if ext is None:
                auto += 1
            elif ext in self.extensions or ext in explicit:
                raise conflict("EXTENSION_EXISTS", f"extension {ext} is taken", "009ext_extension")
            else:
                explicit.add(ext)
            if fields.get("003use_auth_method") == "SSO" and "003use_pw" in fields:
                raise bad_request("PASSWORD_NOT_ALLOWED", "SSO users have no pascom password", "003use_pw")
            self._check_roles(fields)
        for ext in explicit:
            self.extensions.take(ext)
        assigned: list[str] = []
        for _ in range(auto):
            ext = self.extensions.next_free()
            if ext is None:
                for taken in assigned + list(explicit):
                    self.extensions.release(taken)
                raise ApiError(409, "EXTENSION_POOL_EXHAUSTED", "no free extension left in the pool",
                               "009ext_extension")
            assigned.append(ext)
        created = []
        for fields in batch:
            ext = fields.get("009ext_extension") or assigned.pop(0)
            created.append(self._new_user(fields, ext))
        self._list_cache = None
        return created

    def _new_user(self, fields: Mapping[str, Any], extension: str) -> User:
        roles = _roles(fields.get("user_roles", []))
        self.roles.update(roles)
        auth = fields.get("003use_auth_method", "mobydick")
        user = User(
            id=self._next_user_id,
            login=fields["003use_name"],
            display_name=fields["003use_bez"],
            auth_method=auth,
            enabled=fields.get("003use_enabled", True),
            email=fields.get("016voi_email"),
            extension=extension,
            pin=fields.get("011acc_pin"),
            password=None if auth == "SSO" else fields.get("003use_pw"),
            roles=roles,
        )
        self._next_user_id += 1
        post = fields["post"]
        user.phonebook = post["phonebook"]
        for _ in post["ipdevice.mdsoftphone"]:
            self._new_device(user, SOFTPHONE, None, None)
        for entry in post["ipdevice.mobile"]:
            self._new_device(user, MOBILE, entry.get("010dev_bez"), entry.get("mobile") or None)
        self._by_id[user.id] = user
        self._by_login[user.login] = user
        return user

    def _new_device(self, user: User, kind: str, name: str | None, number: str | None) -> Device:
        if kind == SOFTPHONE:
            name = softphone_name(user.display_name)  # D: pascom overwrites the given name
        else:
            name = name or mobile_name(user.display_name)
        device = Device(self._next_device_id, name, kind, paired=False, number=number)
        self._next_device_id += 1
        user.devices.append(device)
        return device


@dataclass(frozen=True)
class AnswerShape:
    """How :meth:`Instance.reshape_answers` changes identity objects on their way out."""

    omit: frozenset[str]
    replace: dict[str, Any]
    device_paired: Any

    def is_plain(self) -> bool:
        return not self.omit and not self.replace and self.device_paired is _KEEP

    def apply(self, body: bytes) -> bytes:
        data = json.loads(body)
        if isinstance(data, dict) and isinstance(data.get("identity"), list):
            data["identity"] = [self._one(obj) for obj in data["identity"]]
        elif isinstance(data, list):
            data = [self._one(obj) for obj in data]
        else:
            data = self._one(data)
        return json.dumps(data, separators=(",", ":")).encode()

    def _one(self, obj: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in obj.items() if k not in self.omit}
        out.update(self.replace)
        if self.device_paired is not _KEEP and isinstance(out.get("devices"), list):
            out["devices"] = [{**d, "paired": self.device_paired} for d in out["devices"]]
        return out


def _roles(roles: Iterable[str]) -> list[str]:
    """Role names without the implicit base role, duplicates dropped, order kept."""
    return [r for r in dict.fromkeys(roles) if r != BASE_ROLE]
