"""OpenLDAP and Active Directory through ldap3.

OpenLDAP (ppolicy overlay): the lock is ``pwdAccountLockedTime`` (the value
``000001010000Z`` means locked for good by an administrator, which we treat
as disabled), a temporary password is ``userPassword`` plus ``pwdReset=TRUE``.
Active Directory: the lock is ``lockoutTime`` (read through the computed
``msDS-User-Account-Control-Computed``), disabled is ``userAccountControl``
bit 2, and a temporary password is ``unicodePwd`` (only over LDAPS or
StartTLS) plus ``pwdLastSet=0``, written in one modify so that it is never
half done. ldap3 is blocking, so every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from ldap3 import BASE, MODIFY_DELETE, MODIFY_REPLACE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from bot.core.errors import DirectoryError
from bot.integrations.directory.base import DirectoryAccount, plausible_email

__all__ = ["LdapDirectory"]

log = logging.getLogger(__name__)
T = TypeVar("T")

AD_CAPABILITY = "1.2.840.113556.1.4.800"
IN_CHAIN = "1.2.840.113556.1.4.1941"  # AD's matching rule for nested group membership
LOCKED_FOR_GOOD = "000001010000Z"
UF_ACCOUNTDISABLE, UF_LOCKOUT = 0x2, 0x10
SYSTEM = "The directory"
_CONSTRAINT, _INSUFFICIENT, _NO_SUCH_OBJECT, _NO_SUCH_ATTRIBUTE, _UNWILLING = 19, 50, 32, 16, 53

Flavor = Literal["auto", "openldap", "ad"]


class LdapDirectory:
    """An OpenLDAP or Active Directory server, reached with the bot's own service account."""

    name = "ldap"
    automatic = True
    can_unlock = True

    def __init__(
        self,
        url: str,
        bind_dn: str,
        password: str,
        base_dn: str,
        *,
        tls_ca: str | None = None,
        start_tls: bool = False,
        flavor: Flavor = "auto",
        timeout: float = 5.0,
        alternate_email_attribute: str = "otherMailbox",
    ) -> None:
        self.url = url
        self.bind_dn = bind_dn
        self._password = password
        self.base_dn = base_dn
        self.tls_ca = tls_ca
        self.start_tls = start_tls
        self.flavor: Flavor = flavor
        self.timeout = timeout
        self.alternate_attribute = alternate_email_attribute
        if not self.secure:
            log.warning("HELPDESK_LDAP_URL %s has no TLS (use ldaps:// or HELPDESK_LDAP_START_TLS=true): the bot's "
                        "own password crosses the network in clear, and password resets are refused",
                        self._where)

    @property
    def secure(self) -> bool:
        """True when the connection is encrypted (LDAPS or StartTLS)."""
        return self.url.lower().startswith("ldaps://") or self.start_tls

    # The port ------------------------------------------------------------------

    async def find(self, email: str) -> DirectoryAccount | None:
        """The one account whose ``mail`` is ``email`` (escaped into the filter), or None."""
        return await self._run(lambda conn: self._find(conn, email))

    async def unlock(self, account: DirectoryAccount) -> None:
        """Clear the lockout and the failure count; the password stays."""
        await self._run(lambda conn: self._unlock(conn, account))

    async def reset_password(self, account: DirectoryAccount, password: str) -> None:
        """Write a temporary password that must be changed at next sign-in, and clear any lockout."""
        await self._run(lambda conn: self._reset(conn, account, password))

    # Work on one connection, in a thread ---------------------------------------

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self._with_connection, work)

    def _with_connection(self, work: Callable[[Connection], T]) -> T:
        conn = self._connect()
        try:
            if self.flavor == "auto":
                self.flavor = _detect_flavor(conn)
            return work(conn)
        except (LDAPException, OSError) as exc:
            raise DirectoryError("unreachable", f"the connection to {self._where} failed ({type(exc).__name__})",
                                 SYSTEM) from None
        finally:
            try:
                conn.unbind()
            except LDAPException:
                pass

    @property
    def _where(self) -> str:
        return self.url.split("://", 1)[-1].rstrip("/")

    def _connect(self) -> Connection:
        tls = None
        if self.secure:
            tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.tls_ca, version=ssl.PROTOCOL_TLS_CLIENT)
        server = Server(self.url, use_ssl=self.url.lower().startswith("ldaps://"), tls=tls,
                        connect_timeout=self.timeout, get_info=NONE)
        # ldap3 packs the receive timeout into a socket option: whole seconds only.
        conn = Connection(server, self.bind_dn, self._password, receive_timeout=max(1, round(self.timeout)),
                          raise_exceptions=False, auto_referrals=False)
        try:
            conn.open()
            if self.start_tls and not conn.start_tls():
                raise DirectoryError("unreachable", f"StartTLS with {self._where} failed", SYSTEM)
        except (LDAPException, OSError) as exc:
            raise DirectoryError("unreachable", f"cannot reach {self._where} ({type(exc).__name__})",
                                 SYSTEM) from None
        try:
            bound = conn.bind()
        except (LDAPException, OSError) as exc:
            raise DirectoryError("unreachable", f"cannot reach {self._where} ({type(exc).__name__})",
                                 SYSTEM) from None
        if not bound:
            result = conn.result or {}
            raise DirectoryError(
                "bind_refused", f"{self._where} refused the bot's sign-in as {self.bind_dn} "
                f"({result.get('description', 'refused')})", SYSTEM)
        return conn

    def _find(self, conn: Connection, email: str) -> DirectoryAccount | None:
        if not plausible_email(email.strip()):
            return None
        value = escape_filter_chars(email.strip())
        if self.flavor == "ad":
            query = f"(&(objectCategory=person)(objectClass=user)(|(mail={value})(userPrincipalName={value})))"
            attributes = ["sAMAccountName", "userPrincipalName", "displayName", "mail", "userAccountControl",
                          "msDS-User-Account-Control-Computed", "pwdLastSet", "adminCount", self.alternate_attribute]
        else:
            query = f"(&(objectClass=person)(mail={value}))"
            attributes = ["uid", "cn", "displayName", "mail", "pwdAccountLockedTime", "pwdChangedTime",
                          self.alternate_attribute]
        conn.search(self.base_dn, query, SUBTREE, attributes=attributes, size_limit=2)
        entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            if len(entries) > 1:
                log.warning("more than one directory account has the email of the request; refusing to guess")
            return None
        entry = entries[0]
        dn, raw = entry["dn"], _lower_keys(entry.get("raw_attributes", {}))
        groups = self._groups(conn, dn)
        alternate = _first(raw, self.alternate_attribute.lower()) or None
        if self.flavor == "ad":
            control = int(_first(raw, "useraccountcontrol") or 0)
            computed = int(_first(raw, "msds-user-account-control-computed") or 0)
            return DirectoryAccount(
                id=dn, email=_first(raw, "mail") or email.strip().lower(),
                username=_first(raw, "samaccountname"), display_name=_first(raw, "displayname"),
                locked=bool(computed & UF_LOCKOUT), disabled=bool(control & UF_ACCOUNTDISABLE),
                groups=groups, alternate_email=alternate, last_reset=_filetime(_first(raw, "pwdlastset")),
                admin_protected=_first(raw, "admincount") == "1",
            )
        locked_at = _first(raw, "pwdaccountlockedtime")
        return DirectoryAccount(
            id=dn, email=_first(raw, "mail") or email.strip().lower(),
            username=_first(raw, "uid") or _first(raw, "cn"), display_name=_first(raw, "displayname"),
            locked=bool(locked_at) and locked_at != LOCKED_FOR_GOOD, disabled=locked_at == LOCKED_FOR_GOOD,
            groups=groups, alternate_email=alternate, last_reset=_generalized(_first(raw, "pwdchangedtime")),
        )

    def _groups(self, conn: Connection, dn: str) -> tuple[str, ...]:
        value = escape_filter_chars(dn)
        if self.flavor == "ad":
            query = f"(&(objectClass=group)(member:{IN_CHAIN}:={value}))"
        else:
            query = f"(|(&(objectClass=groupOfNames)(member={value}))(&(objectClass=groupOfUniqueNames)" \
                    f"(uniqueMember={value})))"
        conn.search(self.base_dn, query, SUBTREE, attributes=["cn"])
        names = [_first(_lower_keys(e.get("raw_attributes", {})), "cn") or _rdn(e["dn"])
                 for e in conn.response or [] if e.get("type") == "searchResEntry"]
        return tuple(sorted(names, key=str.casefold))

    def _unlock(self, conn: Connection, account: DirectoryAccount) -> None:
        if self.flavor == "ad":
            self._modify(conn, account, {"lockoutTime": [(MODIFY_REPLACE, ["0"])]}, "unlock")
            return
        # ppolicy forgets the failure count itself once the lock is removed and the user signs in.
        conn.search(account.id, "(objectClass=*)", BASE, attributes=["pwdAccountLockedTime"])
        entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        if not entries:
            raise DirectoryError("not_found", "the account is no longer in the directory", SYSTEM)
        locked_at = _first(_lower_keys(entries[0].get("raw_attributes", {})), "pwdaccountlockedtime")
        if locked_at and locked_at != LOCKED_FOR_GOOD:
            self._modify(conn, account, {"pwdAccountLockedTime": [(MODIFY_DELETE, [])]}, "unlock")

    def _reset(self, conn: Connection, account: DirectoryAccount, password: str) -> None:
        if not self.secure:
            # Active Directory refuses too; OpenLDAP would accept it and send the password in clear.
            raise DirectoryError("unsupported", "passwords are sent only over LDAPS or StartTLS; set "
                                 "HELPDESK_LDAP_URL to ldaps://... or HELPDESK_LDAP_START_TLS=true", SYSTEM)
        if self.flavor == "ad":
            changes: dict[str, Any] = {
                "unicodePwd": [(MODIFY_REPLACE, [f'"{password}"'.encode("utf-16-le")])],
                "pwdLastSet": [(MODIFY_REPLACE, ["0"])],
            }
            if account.locked:
                changes["lockoutTime"] = [(MODIFY_REPLACE, ["0"])]
        else:
            changes = {
                "userPassword": [(MODIFY_REPLACE, [password])],
                "pwdReset": [(MODIFY_REPLACE, ["TRUE"])],
            }
            if account.locked:
                changes["pwdAccountLockedTime"] = [(MODIFY_DELETE, [])]
        self._modify(conn, account, changes, "reset")

    def _modify(self, conn: Connection, account: DirectoryAccount, changes: dict[str, Any], what: str) -> None:
        if conn.modify(account.id, changes):
            return
        result = conn.result or {}
        code = result.get("result")
        # The server's message can echo the request; keep only its short description.
        reason = str(result.get("description") or "refused")
        if code in (_CONSTRAINT, _UNWILLING) and what == "reset":
            raise DirectoryError("password_rejected", f"the directory's password policy refused the new "
                                 f"password ({reason})", SYSTEM)
        if code == _NO_SUCH_OBJECT:
            raise DirectoryError("not_found", "the account is no longer in the directory", SYSTEM)
        if code == _INSUFFICIENT:
            raise DirectoryError("bind_refused", f"the bot's account {self.bind_dn} may not {what} accounts",
                                 SYSTEM)
        raise DirectoryError("refused", f"the directory refused the {what} ({reason})", SYSTEM)


def _detect_flavor(conn: Connection) -> Literal["openldap", "ad"]:
    """Active Directory (and Samba) announce their capability OID in the root DSE."""
    conn.search("", "(objectClass=*)", BASE, attributes=["supportedCapabilities"])
    for entry in conn.response or []:
        values = _lower_keys(entry.get("raw_attributes", {})).get("supportedcapabilities", [])
        if any(_text(v) == AD_CAPABILITY for v in values):
            return "ad"
    return "openldap"


def _lower_keys(raw: dict[str, list[bytes]]) -> dict[str, list[bytes]]:
    return {key.lower(): value for key, value in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _first(raw: dict[str, list[bytes]], name: str) -> str:
    values = raw.get(name) or []
    return _text(values[0]) if values else ""


def _rdn(dn: str) -> str:
    try:
        return str(parse_dn(dn)[0][1])
    except (ValueError, IndexError, LDAPException):
        return dn


def _generalized(value: str) -> datetime | None:
    """LDAP GeneralizedTime (``20261201093000Z``, maybe with a fraction) as UTC."""
    if not value:
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _filetime(value: str) -> datetime | None:
    """AD's 100-ns ticks since 1601 as UTC; 0 (must change) and empty are None."""
    if not value or not value.lstrip("-").isdigit() or int(value) <= 0:
        return None
    return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value) // 10)
