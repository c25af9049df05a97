"""A throwaway OpenLDAP server for the directory tests: Debian's slapd (`make slapd`) on a free
port of 127.0.0.1, its database in a temporary folder, gone when the test ends.

The suffix is dc=council,dc=example, with the core, cosine and inetOrgPerson schemas and the
memberof overlay, so a person's `memberOf` lists the groupOfNames they are a `member` of, as
Active Directory's does. Entries are added over LDAP (ldap3, as the root DN), never with slapadd:
slapadd bypasses the overlay and would leave `memberOf` empty.
"""

import ipaddress
import shutil
import socket
import ssl
import subprocess
import time
from datetime import datetime, timedelta, UTC
from pathlib import Path

import ldap3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import free_port

SLAPD = Path("/usr/sbin/slapd")
SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
SUFFIX = "dc=council,dc=example"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret"

CONF = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
modulepath {modules}
moduleload back_mdb
moduleload memberof
pidfile {home}/slapd.pid
argsfile {home}/slapd.args

database mdb
maxsize 16777216
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {home}/db
index objectClass eq
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
"""


def available() -> bool:
    return SLAPD.exists() and (SCHEMA / "inetorgperson.schema").exists() and (MODULES / "memberof.la").exists()


def _certificates(home: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1 signed by it; the CA's file."""

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def signed(subject: str, key, issuer: str, issuer_key, *extensions) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = signed("Test council CA", ca_key, "Test council CA", ca_key, (x509.BasicConstraints(ca=True, path_length=0), True))
    server = signed(
        "127.0.0.1",
        server_key,
        "Test council CA",
        ca_key,
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
    )
    (home / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (home / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (home / "server.key").write_bytes(
        server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return home / "ca.pem"


class Slapd:
    """`start()`, `add(...)` entries, `stop()`; `start()` again serves the same database on the same port."""

    def __init__(self, home: Path, tls: bool = False):
        """tls: ldaps:// only, with a certificate for 127.0.0.1 signed by `self.ca_file`, a CA of its own."""
        self.home, self.port = home, free_port()
        self.url = f"{'ldaps' if tls else 'ldap'}://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None
        (home / "db").mkdir(parents=True, exist_ok=True)
        conf = CONF.format(schema=SCHEMA, modules=MODULES, home=home, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD)
        if tls:
            self.ca_file = _certificates(home)
            conf = (
                f"TLSCACertificateFile {self.ca_file}\nTLSCertificateFile {home / 'server.pem'}\n"
                f"TLSCertificateKeyFile {home / 'server.key'}\n" + conf
            )
        (home / "slapd.conf").write_text(conf)

    def start(self) -> "Slapd":
        # -d 0 keeps slapd in the foreground (a child this test can stop) and quiet. Run as
        # whoever runs the tests, root included: no -u/-g, so the temporary folder stays ours.
        self._process = subprocess.Popen(
            [str(SLAPD), "-h", self.url, "-f", str(self.home / "slapd.conf"), "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.home / "slapd.log", "ab"),
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"slapd exited ({self._process.returncode}): {(self.home / 'slapd.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not listen within 10 s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def admin(self) -> ldap3.Connection:
        """A connection bound as the root DN, raising on any failed operation."""
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_file)) if self.url.startswith("ldaps") else None
        return ldap3.Connection(
            ldap3.Server(self.url, get_info=ldap3.NONE, tls=tls), ROOT_DN, ROOT_PASSWORD, auto_bind=True, raise_exceptions=True
        )

    def add(self, *entries: tuple[str, list[str], dict]) -> None:
        """(dn, objectClasses, attributes) each, in order (parents before children)."""
        with self.admin() as conn:
            for dn, classes, attributes in entries:
                conn.add(dn, classes, attributes)

    def modify(self, dn: str, **attributes) -> None:
        """Replace each attribute's values, e.g. modify(dn, manager=[other_dn])."""
        with self.admin() as conn:
            conn.modify(dn, {name: [(ldap3.MODIFY_REPLACE, values)] for name, values in attributes.items()})

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
