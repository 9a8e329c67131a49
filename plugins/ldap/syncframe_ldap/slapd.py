"""A throwaway OpenLDAP server: Debian's ``slapd`` on free 127.0.0.1 ports, for tests and the sandbox.

The LDAP plugin's "simulator" is the real thing. :class:`ThrowawaySlapd` writes a
``cn=config`` LDIF, loads it with ``slapadd -n0``, loads the initial data offline
(``slapadd``, fast even for thousands of users) and starts ``slapd`` in the
foreground on two ports: ``ldap://`` (StartTLS offered) and ``ldaps://``, both with
a certificate from the process's throwaway CA (:func:`syncframe.sdk.throwaway_ca`).

It serves two databases:

- :data:`OPENLDAP_SUFFIX` (``dc=example,dc=org``): mdb with ``syncprov`` (a session
  log, so RFC 4533 refreshes send deletions as entryUUIDs) and ``ppolicy`` (for
  ``pwdAccountLockedTime``);
- :data:`AD_SUFFIX` (``dc=corp,dc=example,dc=com``): an Active-Directory-like tree
  under a small schema (:data:`AD_SCHEMA_LDIF`) that defines the AD attributes the
  ``ad`` flavour reads. It has no ``syncprov``: AD is read in full.

Nothing here needs python-ldap: the server is driven with the ``slap*`` tools and
waited for with a plain socket, so the sandbox can start where python-ldap is not
installed.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from syncframe.sdk import throwaway_ca

SLAPD = os.environ.get("SYNCFRAME_SLAPD", "/usr/sbin/slapd")
SLAPADD = os.environ.get("SYNCFRAME_SLAPADD", "/usr/sbin/slapadd")
SCHEMA_DIR = Path(os.environ.get("SYNCFRAME_LDAP_SCHEMA_DIR", "/etc/ldap/schema"))
MODULE_DIR = Path(os.environ.get("SYNCFRAME_LDAP_MODULE_DIR", "/usr/lib/ldap"))

OPENLDAP_SUFFIX = "dc=example,dc=org"
AD_SUFFIX = "dc=corp,dc=example,dc=com"
ROOT_PASSWORD = "throwaway-root-secret"
#: the bind account of the sandbox and tests (read access, no size limit)
SERVICE_DN = f"cn=syncframe,ou=service,{OPENLDAP_SUFFIX}"
AD_SERVICE_DN = f"cn=syncframe,ou=service,{AD_SUFFIX}"
SERVICE_PASSWORD = "throwaway-bind-secret"
#: a second bind account that keeps slapd's default size limit (500 entries per search)
LIMITED_DN = f"cn=limited,ou=service,{OPENLDAP_SUFFIX}"

#: The Active Directory attributes the ``ad`` flavour reads, with AD's own OIDs and
#: syntaxes where slapd knows them (objectGUID is 16 octets; userAccountControl an
#: integer; memberOf the DN-valued back link AD computes, stored here as written).
AD_SCHEMA_LDIF = """\
dn: cn=adlite,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adlite
olcAttributeTypes: ( 1.2.840.113556.1.4.148 NAME 'objectGUID' DESC 'AD: the object GUID (16 octets)' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' DESC 'AD: user@realm' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' DESC 'AD: pre-Windows 2000 logon name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' DESC 'AD: account flags; 0x2 = disabled' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.2.102 NAME 'memberOf' DESC 'AD: groups the object is a direct member of' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
olcAttributeTypes: ( 1.2.840.113556.1.2.141 NAME 'department' DESC 'AD: department' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( 1.2.840.113556.1.5.9 NAME 'user' DESC 'AD: a user account' SUP inetOrgPerson STRUCTURAL MAY ( objectGUID $ userPrincipalName $ sAMAccountName $ userAccountControl $ memberOf $ department ) )
olcObjectClasses: ( 1.2.840.113556.1.3.30 NAME 'computer' DESC 'AD: a computer account (a user, to AD)' SUP user STRUCTURAL )
olcObjectClasses: ( 1.2.840.113556.1.5.8 NAME 'group' DESC 'AD: a security or distribution group' SUP top STRUCTURAL MUST cn MAY ( member $ objectGUID $ sAMAccountName $ memberOf $ description ) )
"""


def available() -> str | None:
    """Why a throwaway slapd cannot run here, or None when it can."""
    for tool in (SLAPD, SLAPADD):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing (apt-get install slapd ldap-utils)"
    for module in ("back_mdb", "syncprov", "ppolicy"):
        if not any(MODULE_DIR.glob(f"{module}.*")):
            return f"the slapd module {module} is missing from {MODULE_DIR}"
    if not (SCHEMA_DIR / "inetorgperson.ldif").exists():
        return f"the OpenLDAP schema files are missing from {SCHEMA_DIR}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_ldif(number: int, suffix: str, directory: Path, indexes: str, service_dn: str) -> str:
    """One mdb database: root DN, indexes, read access for bound users, no limits for the service account."""
    return f"""\
dn: olcDatabase={{{number}}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{{number}}}mdb
olcSuffix: {suffix}
olcRootDN: cn=admin,{suffix}
olcRootPW: {ROOT_PASSWORD}
olcDbDirectory: {directory}
olcDbMaxSize: 268435456
olcDbIndex: objectClass eq
olcDbIndex: {indexes} eq
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none
olcLimits: {{0}}dn.exact="{service_dn}" size=unlimited time=unlimited
"""


def config_ldif(run_dir: Path, cert: Path, key: Path, syncprov: bool = True, sessionlog: int = 10_000) -> str:
    """The whole ``cn=config`` of the throwaway server.

    :param syncprov: Offer RFC 4533 content sync on the OpenLDAP database.
    :param sessionlog: How many writes syncprov remembers: a cookie older than that is
        answered with a present phase (every unchanged entry named) instead of deletions.
    """
    schema = "\n".join(
        (SCHEMA_DIR / f"{name}.ldif").read_text(encoding="utf-8") for name in ("core", "cosine", "inetorgperson")
    )
    overlays = f"""\
dn: olcOverlay={{0}}syncprov,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{0}}syncprov
olcSpSessionlog: {sessionlog}

""" if syncprov else ""
    overlays += """\
dn: olcOverlay={1}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {1}ppolicy
"""
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {run_dir}/slapd.pid
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}
olcLogLevel: none

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
olcModuleLoad: back_mdb
olcModuleLoad: syncprov
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schema}

{AD_SCHEMA_LDIF}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 500

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

{database_ldif(1, OPENLDAP_SUFFIX, run_dir / "openldap", "entryUUID,entryCSN,uid,member,uniqueMember", SERVICE_DN)}
{overlays}
{database_ldif(2, AD_SUFFIX, run_dir / "ad", "member,memberOf", AD_SERVICE_DN)}"""


def base_ldif() -> dict[str, str]:
    """Suffix -> the LDIF every throwaway server starts with: the roots and the bind accounts."""
    secret = SERVICE_PASSWORD
    return {
        OPENLDAP_SUFFIX: f"""\
dn: {OPENLDAP_SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=service,{OPENLDAP_SUFFIX}
objectClass: organizationalUnit
ou: service

dn: {SERVICE_DN}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: syncframe
userPassword: {secret}

dn: {LIMITED_DN}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: limited
userPassword: {secret}
""",
        AD_SUFFIX: f"""\
dn: {AD_SUFFIX}
objectClass: dcObject
objectClass: organization
dc: corp
o: Corp

dn: ou=service,{AD_SUFFIX}
objectClass: organizationalUnit
ou: service

dn: {AD_SERVICE_DN}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: syncframe
userPassword: {secret}
""",
    }


class SlapdError(RuntimeError):
    """The throwaway server could not be configured or started; carries slapd's words."""


class ThrowawaySlapd:
    """One slapd process with its own directory, ports and certificate.

    :param data: Extra LDIF per suffix, loaded offline before the server starts.
    :param syncprov: Offer content sync (RFC 4533) on the OpenLDAP database.
    :param sessionlog: Writes syncprov remembers (see :func:`config_ldif`).
    :param keep: Keep the run directory after :meth:`stop` (to read a failed run).
    """

    def __init__(self, data: dict[str, str] | None = None, syncprov: bool = True, sessionlog: int = 10_000, keep: bool = False):
        self.data = dict(data or {})
        self.syncprov = syncprov
        self.sessionlog = sessionlog
        self.keep = keep
        self.run_dir = Path(tempfile.mkdtemp(prefix="syncframe-slapd-"))
        self.ca_bundle = str(self.run_dir / "ca.pem")
        self.port = 0
        self.tls_port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._configured = False

    # -- addresses ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``ldap://127.0.0.1:PORT`` (plain; StartTLS offered)."""
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        """``ldaps://127.0.0.1:PORT`` (the certificate names 127.0.0.1 and localhost)."""
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle --------------------------------------------------------------------

    def configure(self) -> None:
        """Write the certificate, ``cn=config`` and the initial data (once)."""
        if self._configured:
            return
        ca = throwaway_ca()
        ca.cert_pem.write_to_path(self.ca_bundle)
        issued = ca.issue_cert("localhost", "127.0.0.1")
        cert, key = self.run_dir / "server.pem", self.run_dir / "server.key"
        issued.cert_chain_pems[0].write_to_path(str(cert))
        issued.private_key_pem.write_to_path(str(key))
        os.chmod(key, 0o600)
        for sub in ("slapd.d", "openldap", "ad"):
            (self.run_dir / sub).mkdir()
        self._slapadd(["-n0"], config_ldif(self.run_dir, cert, key, self.syncprov, self.sessionlog))
        for suffix, ldif in base_ldif().items():
            self._slapadd(["-b", suffix], ldif + "\n" + self.data.get(suffix, ""))
        self._configured = True

    def start(self) -> "ThrowawaySlapd":
        """Configure (first time) and start; returns when the server accepts connections."""
        self.configure()
        if self.running:
            return self
        if not self.port:
            self.port, self.tls_port = free_port(), free_port()
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"
        log = open(self.run_dir / "slapd.log", "ab")
        # -d 0: stay in the foreground (so we own the process) and print nothing
        self._proc = subprocess.Popen(
            [SLAPD, "-F", str(self.run_dir / "slapd.d"), "-h", urls, "-d", "0"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + 15
        while True:
            if self._proc.poll() is not None:
                raise SlapdError(f"slapd exited with {self._proc.returncode}: {self.log_text()[-2000:]}")
            if _accepts(self.port) and _accepts(self.tls_port):
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise SlapdError("slapd did not open its ports within 15 s")
            time.sleep(0.02)

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash or a pulled cable would; data stays."""
        if self._proc is not None:
            if self._proc.poll() is None:
                os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)
            self._proc = None

    def terminate(self) -> None:
        """Stop the server cleanly (SIGTERM); :meth:`start` brings it back on the same ports."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.kill()
            self._proc = None

    def stop(self) -> None:
        """Stop the server and remove its files (unless ``keep``)."""
        self.terminate()
        if not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return (self.run_dir / "slapd.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> "ThrowawaySlapd":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers ------------------------------------------------------------------------

    def _slapadd(self, args: list[str], ldif: str) -> None:
        result = subprocess.run(
            [SLAPADD, "-F", str(self.run_dir / "slapd.d"), "-q", *args],
            input=ldif.encode("utf-8"), capture_output=True,
        )
        if result.returncode != 0:
            raise SlapdError(f"slapadd {' '.join(args)} failed: {result.stderr.decode('utf-8', 'replace').strip()}")


def _die_with_parent() -> None:
    """In the child: a server whose test run was killed must not live on (Linux' PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
