"""Throwaway directory servers for the tests: OpenLDAP ``slapd`` and a Samba AD domain controller.

Each runs on loopback from its own temp dir and is stopped at the end. The
helpers here only start and seed servers; the fixtures in
``tests/servers/fixtures.py`` decide when.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)
SLAPADD = shutil.which("slapadd") or ("/usr/sbin/slapadd" if os.path.exists("/usr/sbin/slapadd") else None)
SAMBA = shutil.which("samba") or ("/usr/sbin/samba" if os.path.exists("/usr/sbin/samba") else None)
SAMBA_TOOL = shutil.which("samba-tool")
OPENSSL = shutil.which("openssl")

BASE_DN = "dc=city,dc=example"
ROOT_DN = f"cn=admin,{BASE_DN}"
ROOT_PASSWORD = "root-secret-for-tests"
BOT_DN = f"cn=helpdesk-bot,ou=services,{BASE_DN}"
BOT_PASSWORD = "bot-secret-for-tests"
PEOPLE = f"ou=people,{BASE_DN}"
USER_PASSWORD = "Start-Passw0rd-x"
MAX_FAILURES = 3


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    """Wait until ``host:port`` accepts connections, or fail with the process's output."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process.args[0]} did not listen on {host}:{port} within {seconds}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server we started (its whole process group) and wait for it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def make_tls(folder: Path, *addresses: str) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for ``addresses`` (IPs); returns (ca, cert, key)."""
    assert OPENSSL is not None
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr, ext = folder / "server.pem", folder / "server.key", folder / "server.csr", folder / "ext.cnf"
    quiet = {"check": True, "capture_output": True}
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
                    "-days", "2", "-subj", "/CN=civic-helpdesk test CA"], **quiet)  # type: ignore[call-overload]
    subprocess.run([OPENSSL, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", f"/CN={addresses[0]}"], **quiet)  # type: ignore[call-overload]
    ext.write_text("subjectAltName=" + ",".join(f"IP:{a}" for a in addresses) + ",DNS:localhost\n")
    subprocess.run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", ext], **quiet)  # type: ignore[call-overload]
    key.chmod(0o600)
    return ca, cert, key


# OpenLDAP ----------------------------------------------------------------------------

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {dir}/slapd.pid
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}

database mdb
maxsize 20971520
suffix "{base}"
rootdn "{root}"
rootpw {root_password}
directory {dir}/data

overlay ppolicy
ppolicy_default "cn=default,ou=policies,{base}"
ppolicy_use_lockout
ppolicy_hash_cleartext

access to attrs=userPassword
    by dn.exact="{bot}" write
    by self write
    by anonymous auth
    by * none
access to *
    by dn.exact="{bot}" write
    by * read
"""

BASE_LDIF = """\
dn: {base}
objectClass: dcObject
objectClass: organization
dc: city
o: City of Example

dn: ou=people,{base}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{base}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{base}
objectClass: organizationalUnit
ou: services

dn: ou=policies,{base}
objectClass: organizationalUnit
ou: policies

dn: {bot}
objectClass: person
cn: helpdesk-bot
sn: bot
userPassword: {bot_password}

dn: cn=default,ou=policies,{base}
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMaxFailure: {failures}
pwdLockout: TRUE
pwdLockoutDuration: 0
pwdFailureCountInterval: 0
pwdMustChange: TRUE
pwdAllowUserChange: TRUE
pwdCheckQuality: 2
pwdMinLength: 12

dn: cn=strict,ou=policies,{base}
objectClass: device
objectClass: pwdPolicy
cn: strict
pwdAttribute: userPassword
pwdMustChange: TRUE
pwdCheckQuality: 2
pwdMinLength: 60
"""


@dataclass
class Slapd:
    """A running slapd: its URL, TLS CA, and the bot's own service account."""

    url: str
    port: int
    ca: Path
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def settings(self) -> dict[str, object]:
        """The ``HELPDESK_LDAP_*`` settings that point the bot here (StartTLS, checked against the CA)."""
        return {
            "directory": "ldap",
            "ldap_url": self.url,
            "ldap_bind_dn": BOT_DN,
            "ldap_password": BOT_PASSWORD,
            "ldap_base_dn": BASE_DN,
            "ldap_tls_ca": str(self.ca),
            "ldap_start_tls": True,
            "ldap_timeout": 3,
        }

    def stop(self) -> None:
        """Stop the server."""
        stop(self.process)


def start_slapd(folder: Path) -> Slapd:
    """Configure, seed and start slapd (mdb backend, ppolicy overlay) on a free loopback port."""
    assert SLAPD and SLAPADD
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    ca, cert, key = make_tls(folder / "tls", "127.0.0.1")
    conf = folder / "slapd.conf"
    values = {"dir": folder, "ca": ca, "cert": cert, "key": key, "base": BASE_DN, "root": ROOT_DN,
              "root_password": ROOT_PASSWORD, "bot": BOT_DN, "bot_password": BOT_PASSWORD,
              "failures": MAX_FAILURES}
    conf.write_text(SLAPD_CONF.format(**values))
    (folder / "base.ldif").write_text(BASE_LDIF.format(**values))
    subprocess.run([SLAPADD, "-f", str(conf), "-l", str(folder / "base.ldif")], check=True, capture_output=True)
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen([SLAPD, "-d", "0", "-f", str(conf), "-h", url + "/"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for_port("127.0.0.1", port, process)
    return Slapd(url=url, port=port, ca=ca, folder=folder, process=process)


# Samba AD ----------------------------------------------------------------------------

AD_REALM = "CITY.TEST"
AD_BASE = "DC=city,DC=test"
AD_ADMIN_PASSWORD = "Adm1n-Passw0rd-for-tests"
AD_LOCKOUT = 3


@dataclass
class SambaDC:
    """A running Samba AD DC, reachable over LDAPS on a loopback address of its own."""

    address: str
    ca: Path
    conf: Path
    folder: Path
    process: subprocess.Popen[bytes]
    provision_seconds: float
    start_seconds: float

    @property
    def url(self) -> str:
        """Its LDAPS URL (Samba's LDAP ports are fixed, so the address is what varies)."""
        return f"ldaps://{self.address}:636"

    @property
    def settings(self) -> dict[str, object]:
        """The ``HELPDESK_LDAP_*`` settings that point the bot here."""
        return {
            "directory": "ldap",
            "ldap_url": self.url,
            "ldap_bind_dn": f"Administrator@{AD_REALM.lower()}",
            "ldap_password": AD_ADMIN_PASSWORD,
            "ldap_base_dn": AD_BASE,
            "ldap_tls_ca": str(self.ca),
            "ldap_timeout": 5,
        }

    def tool(self, *args: str) -> str:
        """Run ``samba-tool`` against this DC's database; returns its output."""
        assert SAMBA_TOOL
        done = subprocess.run([SAMBA_TOOL, *args, "-s", str(self.conf), "-H", str(self.folder / "private" /
                               "sam.ldb")], capture_output=True, text=True, check=True)
        return done.stdout

    def stop(self) -> None:
        """Stop the DC."""
        stop(self.process)


def _free_loopback_address() -> str:
    """A 127.x.y.z address where nothing listens on 636 (Samba's ports cannot move, its address can)."""
    for _ in range(50):
        address = f"127.{os.getpid() % 200 + 20}.{int.from_bytes(os.urandom(1), 'big')}.1"
        with socket.socket() as sock:
            try:
                sock.bind((address, 636))
            except OSError:
                continue
        return address
    raise RuntimeError("no free loopback address for Samba")


def samba_cache() -> Path | None:
    """Where a provisioned test domain is kept between runs: ``HELPDESK_TEST_SAMBA_CACHE``
    (empty: none), by default ``~/.cache/civic-helpdesk``."""
    value = os.environ.get("HELPDESK_TEST_SAMBA_CACHE", str(Path.home() / ".cache" / "civic-helpdesk"))
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


PROVISION_ARGS = ("domain", "provision", f"--realm={AD_REALM}", "--domain=CITY", "--server-role=dc",
                  "--dns-backend=NONE", f"--adminpass={AD_ADMIN_PASSWORD}", "--option=interfaces=lo",
                  "--option=bind interfaces only=yes")


_PLACEHOLDER = "@SAMBA_DIR@"


def _provisioned(cache: Path | None) -> Path | None:
    """A provisioned domain kept in ``cache`` from an earlier run (same Samba, same arguments), if any."""
    if cache is None:
        return None
    version = subprocess.run([str(SAMBA), "--version"], capture_output=True, text=True).stdout.strip()
    key = hashlib.sha256(repr((version, PROVISION_ARGS)).encode()).hexdigest()[:16]
    return cache / f"samba-domain-{key}"


def start_samba(folder: Path, cache: Path | None = None) -> SambaDC:
    """Provision a one-DC domain into ``folder`` and start ``samba -i`` with only its LDAP service.

    Provisioning takes about ten seconds. With ``cache``, the freshly provisioned
    domain is kept there and later runs copy it instead (only ``smb.conf``
    names the folder, and it is rewritten).
    """
    assert SAMBA and SAMBA_TOOL
    address = _free_loopback_address()
    started = time.monotonic()
    template = _provisioned(cache)
    if template is not None and (template / "etc" / "smb.conf").exists():
        shutil.copytree(template, folder, symlinks=True)
        conf = folder / "etc" / "smb.conf"
        conf.write_text(conf.read_text().replace(_PLACEHOLDER, str(folder)))
    else:
        subprocess.run([SAMBA_TOOL, *PROVISION_ARGS, f"--targetdir={folder}"], check=True, capture_output=True)
        if template is not None:
            partial = template.with_name(f"{template.name}.{os.getpid()}")
            shutil.copytree(folder, partial, symlinks=True)
            conf = partial / "etc" / "smb.conf"
            conf.write_text(conf.read_text().replace(str(folder), _PLACEHOLDER))
            try:
                partial.rename(template)
            except OSError:
                shutil.rmtree(partial, ignore_errors=True)  # another run cached it first
    provisioned = time.monotonic()
    ca, cert, key = make_tls(folder / "test-tls", address)
    conf = folder / "etc" / "smb.conf"
    text = conf.read_text()
    text = text.replace("interfaces = lo", f"interfaces = {address}/8")
    lines = []
    for line in text.splitlines():
        if line.strip().startswith(("server services", "log file", "logging")):
            continue
        lines.append(line)
        if line.strip() == "[global]":
            lines += ["\tserver services = ldap", f"\tpid directory = {folder}", f"\tlog file = {folder}/log.%m",
                      "\ttls enabled = yes", f"\ttls keyfile = {key}", f"\ttls certfile = {cert}",
                      f"\ttls cafile = {ca}"]
    conf.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen([SAMBA, "-i", "-s", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for_port(address, 636, process, seconds=60)
    dc = SambaDC(address=address, ca=ca, conf=conf, folder=folder, process=process,
                 provision_seconds=provisioned - started, start_seconds=time.monotonic() - provisioned)
    dc.tool("domain", "passwordsettings", "set", f"--account-lockout-threshold={AD_LOCKOUT}",
            "--min-pwd-age=0", "--complexity=on", "--min-pwd-length=10", "--history-length=0")
    return dc
