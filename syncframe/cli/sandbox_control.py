"""Talking to a running ``syncframe sandbox``: add, rename, disable and remove its
directory users from another shell, so an administrator can rehearse a change (a
removal above all) before trusting the tool with the real directory.

The sandbox listens on 127.0.0.1 (:mod:`multiprocessing.connection`, which
authenticates both ends with a random key) and writes where and with which key to
a 0600 control file; ``syncframe sandbox user ...`` reads it. Requests and answers
are JSON. Users are changed only through the neutral
:class:`~syncframe.contracts.SourceSandbox` contract (``put_identity`` and
``remove_identity``), so every source plugin's sandbox works the same way.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import uuid
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError

ENV_VAR = "SYNCFRAME_SANDBOX_CONTROL"


def default_control_file() -> Path:
    """``$SYNCFRAME_SANDBOX_CONTROL``, else ``sandbox.json`` in the user's data directory."""
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("syncframe", appauthor=False)) / "sandbox.json"


class SandboxUsers:
    """The running sandbox's directory users, by source id, changed through the contract."""

    def __init__(self, source_box: Any, identities: Iterable[Any] = ()):
        self.box = source_box
        self.lock = threading.Lock()
        self.users = {i.source_id: i for i in identities}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        from ..model import Identity

        op = request.get("op")
        with self.lock:
            if op == "list":
                return {"users": [_public(i) for i in sorted(self.users.values(), key=lambda i: i.username.casefold())]}
            if op == "add":
                username = str(request["username"])
                if self._find(username, missing_ok=True) is not None:
                    raise ConfigError(f"the sandbox has a user {username!r} already")
                identity = Identity(
                    source_id=str(request.get("id") or uuid.uuid4()),
                    username=username,
                    display_name=str(request.get("display_name") or username.split("@", 1)[0]),
                    email=request.get("email") or (username if "@" in username else None),
                    enabled=not request.get("disabled"),
                    groups=tuple(request.get("groups") or ()),
                )
                return self._put(identity)
            current = self._find(str(request.get("username")))
            if op == "rename":
                new = str(request["new_username"])
                if self._find(new, missing_ok=True) is not None:
                    raise ConfigError(f"the sandbox has a user {new!r} already")
                email = new if current.email and current.email.casefold() == current.username.casefold() else current.email
                return self._put(current.replace(username=new, email=email))
            if op in ("disable", "enable"):
                return self._put(current.replace(enabled=op == "enable"))
            if op == "remove":
                self.box.remove_identity(current.source_id)
                del self.users[current.source_id]
                return {"removed": _public(current)}
        raise ConfigError(f"unknown sandbox request {op!r}")

    def _put(self, identity: Any) -> dict[str, Any]:
        self.box.put_identity(identity)
        self.users[identity.source_id] = identity
        return {"user": _public(identity)}

    def _find(self, username: str, missing_ok: bool = False) -> Any:
        wanted = username.casefold()
        found = next((i for i in self.users.values() if i.username.casefold() == wanted or i.source_id == username), None)
        if found is None and not missing_ok:
            raise ConfigError(f"the sandbox has no user {username!r} (see 'syncframe sandbox user list')")
        return found


def _public(identity: Any) -> dict[str, Any]:
    return {
        "id": identity.source_id,
        "username": identity.username,
        "display_name": identity.display_name,
        "email": identity.email,
        "enabled": identity.enabled,
        "groups": list(identity.groups),
    }


class ControlServer:
    """Serves :class:`SandboxUsers` on 127.0.0.1 until :meth:`close`; writes the control file."""

    def __init__(self, users: SandboxUsers, control_file: Path):
        self.users = users
        self.control_file = control_file
        self._key = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=self._key)
        self._thread = threading.Thread(target=self._serve, name="syncframe-sandbox-control", daemon=True)

    def start(self) -> "ControlServer":
        host, port = self._listener.address
        self.control_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.control_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"host": host, "port": port, "key": self._key.hex(), "pid": os.getpid()}, handle)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except OSError:  # closed
                return
            except Exception:  # noqa: BLE001 - a client with the wrong key: ignore it
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: Connection) -> None:
        with connection:
            try:
                request = json.loads(connection.recv_bytes().decode("utf-8"))
                answer = {"ok": True, **self.users.handle(request)}
            except (ConfigError, KeyError, ValueError) as exc:
                answer = {"ok": False, "error": str(exc)}
            connection.send_bytes(json.dumps(answer).encode("utf-8"))

    def close(self) -> None:
        self._listener.close()
        try:
            if json.loads(self.control_file.read_text(encoding="utf-8")).get("pid") == os.getpid():
                self.control_file.unlink()
        except (OSError, ValueError):
            pass


def ask(control_file: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Send one request to the running sandbox; its answer, or a ConfigError saying why not."""
    try:
        settings = json.loads(control_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no sandbox is running (no control file {str(control_file)!r}); start one with 'syncframe sandbox'") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the sandbox control file {str(control_file)!r} cannot be read: {exc}") from None
    try:
        with Client((settings["host"], int(settings["port"])), authkey=bytes.fromhex(settings["key"])) as connection:
            connection.send_bytes(json.dumps(request).encode("utf-8"))
            answer = json.loads(connection.recv_bytes().decode("utf-8"))
    except (OSError, EOFError, KeyError, ValueError) as exc:
        raise ConfigError(f"the sandbox named in {str(control_file)!r} does not answer ({type(exc).__name__}); is it still running?") from None
    if not answer.get("ok"):
        raise ConfigError(str(answer.get("error")))
    return answer
