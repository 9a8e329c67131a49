"""A local pascom REST API for tests, the benchmark and ``syncframe demo``.

It implements ``pascom-contract.md`` (D = documented by pascom, S = product page,
A = assumed) over real HTTPS on loopback (:class:`syncframe.loopback.LoopbackServer`),
so the target plugin talks to it with unmodified ``requests``.

Python API::

    sim = PascomSimulator(keep_log=True).start()     # or: with PascomSimulator() as sim:
    acme = sim.add_instance("acme", password=None,    # None: generated (acme.password)
                            pool=range(100, 1000),    # auto-assigned extensions, lowest free first
                            username="moby", roles=("Administrator", "Users"),
                            strict_roles=False,       # True: unknown role -> 400 UNKNOWN_ROLE
                            seed_admin=True)          # seeds "admin" with role Administrator
    sim.url                 # https://127.0.0.1:<port>
    sim.instance_url("acme")  # https://127.0.0.1:<port>/acme
    sim.services_url("acme")  # https://127.0.0.1:<port>/acme/services/
    sim.ca_bundle           # PEM path to verify against
    acme.seed_user("mmustermann", display_name="Max Mustermann", email="max@contoso.com",
                   auth_method="mobydick", password=None, extension=None, roles=(), enabled=True,
                   pin=None, softphone=True, mobile=True, mobile_paired=True, mobile_number=None,
                   sessions=("desktop", "mobile"), phonebook=None) -> User
    acme.seed_users(specs)  # many: each spec the kwargs of seed_user; GC paused, JSON pre-made
    acme.users              # read-only {login: User}; User has id, login, display_name,
                            # auth_method, enabled, email, extension, pin, password, roles,
                            # devices [Device(id, name, type, paired, number)],
                            # sessions [Session(id, device_id, kind)], phonebook, wire()
    acme.user(login)        # User or None;  acme.snapshot() -> [User] ordered by id (under the lock)
    acme.pair_mobile(login) # the app is paired again: mobile devices paired, a mobile session opened
    acme.remove_user(login); acme.roles (set); acme.extensions.used (set of taken extensions)
    acme.add_device(login, {"type": "mobile", "010dev_bez": ...}); acme.remove_device(login, device_id)
    acme.reshape_answers(omit={"phonebook"}, replace={"003use_enabled": "0"}, device_paired="no")
                            # answer like an instance whose identity objects differ from the
                            # assumed ones (for the adapter's tests); reshape_answers() undoes it
    acme.password; acme.username
    sim.switches / acme.switches   # Switches: all instances / this one
        .latency = 0.05; .jitter = 0.01; .write_latency = 0.02; .reject_credentials = True
        .throttle_next(n, retry_after=1); .throttle_every(k, retry_after=1)
        .rate_limit(per_second, burst=None, retry_after=None)
        .fail_write(k=1, status=500, retry_after=None)     # k-th write from now, not performed
        .fail_every_write(k, status=503, retry_after=None)
        .lose_write(k=1, mode="502" | "drop")              # performed, answer lost
        .outage(status=503, retry_after=None); .outage(None); .reset()
        .limit_capacity(k, over="429" | "slow", retry_after=1)  # hidden capacity: past k requests
                            # in progress, 429 at once (retry_after=None: no header) or queue;
                            # .over_capacity and .peak_in_progress count what happened
    sim.requests            # [RequestRecord(instance, method, path, status)], status 0 = dropped
    sim.counters(instance=None)  # {"requests", "writes", "by_method", "by_status"}
    sim.reset_counters(); sim.stop()
    PascomSimulator(threads=16)  # requests answered at once by the server (more wait to be accepted)

Wire (relative to ``/<instance>/services/``; Basic auth ``moby:<password>``):

- ``GET identity/`` -> 200 ``[<identity>, ...]`` (whole list, ordered by id)
- ``GET identity/<login>`` -> 200 ``<identity>`` | 404
- ``POST identity/`` ``{"identity": [{<fields>, "user_roles": [...], "post": {"phonebook": [...],
  "ipdevice.mdsoftphone": [{"010dev_bez": ...}], "ipdevice.mobile": [{"010dev_bez": ..., "mobile": ...}]}}]}``
  -> 201 ``{"identity": [<created>, ...]}`` (all or nothing) | 400 | 409 ``LOGIN_EXISTS`` /
  ``EXTENSION_EXISTS`` / ``EXTENSION_POOL_EXHAUSTED``
- ``PUT identity/<login>`` partial fields (plus ``phonebook``: replaces the entries, A) -> 200
  ``<identity>``; a new ``003use_name`` renames (id, extension, devices, roles kept; mobile
  devices unpaired, mobile sessions ended) | 400 | 404 | 409
- ``DELETE identity/<login>`` -> 204 | 404
- ``POST identity/<login>/devices`` ``{"type": "softphone"|"mobile", "010dev_bez"?, "mobile"?}`` -> 201 device
- ``DELETE identity/<login>/devices/<010dev_id>`` -> 204 (the device and its sessions) | 404
- ``GET identity/<login>/sessions`` -> 200 ``[{"id": int, "device": <010dev_id>, "kind": "desktop"|"mobile",
  "paired": bool}]``
- ``DELETE identity/<login>/sessions`` -> 204: sessions ended, mobile pairing removed

Identity object (read)::

    {"003use_id": 1, "003use_name": "mmustermann", "003use_bez": "Max Mustermann",
     "003use_auth_method": "mobydick", "003use_enabled": true, "016voi_email": "max@contoso.com" | null,
     "009ext_extension": "100", "user_roles": ["Sales"],
     "devices": [{"010dev_id": 1, "010dev_bez": "pascom Softphone [Max Mustermann]",
                  "type": "softphone", "paired": false}, ...],
     "phonebook": [{"028pho_firstname": "Max", "028pho_lastname": "Mustermann",
                    "028pho_phone": "+49 30 1234", "028pho_mobile": "+49 170 1234"}]}

``011acc_pin`` and ``003use_pw`` are write-only. ``user_roles`` never lists the implicit
base role "All" (it is dropped when sent). ``phonebook`` entries are returned exactly as
written (A). Softphones are always named ``pascom Softphone [<display name>]`` at
creation (D); mobile devices keep the given name or get ``pascom Mobile [<display name>]``
(A) and start unpaired. Errors: ``{"error": {"code", "message", "field"}}``; codes are
listed in :mod:`.validation` plus UNAUTHORIZED (401, ``WWW-Authenticate``), NOT_FOUND,
METHOD_NOT_ALLOWED (405), RATE_LIMITED (429, ``Retry-After``), INTERNAL_ERROR /
BAD_GATEWAY / SERVICE_UNAVAILABLE / GATEWAY_TIMEOUT, INVALID_JSON, INVALID_CONTENT_TYPE.
"""

from .errors import ApiError
from .instance import BASE_ROLE, Instance
from .log import RequestRecord
from .model import Device, Session, User
from .server import PascomSimulator
from .switches import Fault, Switches

__all__ = [
    "ApiError",
    "BASE_ROLE",
    "Device",
    "Fault",
    "Instance",
    "PascomSimulator",
    "RequestRecord",
    "Session",
    "Switches",
    "User",
]
