"""Entra ID through Microsoft Graph, as an app registration with client credentials.

The app needs the application permissions ``User.Read.All``,
``GroupMember.Read.All`` and ``User-PasswordProfile.ReadWrite.All`` (or
``UserAuthenticationMethod.ReadWrite.All``). Graph has no call that clears an
Entra smart lockout, so ``can_unlock`` is False and an unlock becomes a task
for a technician; a password reset sets ``forceChangePasswordNextSignIn``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.core.errors import DirectoryError
from bot.integrations.directory.base import DirectoryAccount, plausible_email

__all__ = ["GraphDirectory"]

log = logging.getLogger(__name__)

SYSTEM = "Microsoft Entra ID"
SCOPE = "https://graph.microsoft.com/.default"
USER_FIELDS = "id,displayName,mail,userPrincipalName,mailNickname,accountEnabled,otherMails,lastPasswordChangeDateTime"


class GraphDirectory:
    """Users in one Entra ID tenant. The authority and Graph URLs are settings, so a fake can serve them."""

    name = "graph"
    automatic = True
    can_unlock = False

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        authority_url: str = "https://login.microsoftonline.com",
        base_url: str = "https://graph.microsoft.com/v1.0",
        timeout: float = 10.0,
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = f"{authority_url.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: tuple[str, float] | None = None
        for url in (self.token_url, self.base_url):
            host = urlsplit(url).hostname or ""
            if not url.startswith("https://") and host not in ("127.0.0.1", "::1", "localhost"):
                log.warning("%s is not https: the app's secret and passwords would cross the network in clear",
                            url.split("?")[0])

    async def find(self, email: str) -> DirectoryAccount | None:
        """The user whose ``mail`` or ``userPrincipalName`` is ``email`` (OData-quoted), or None."""
        if not plausible_email(email.strip()):
            return None
        quoted = email.strip().replace("'", "''")
        params = {"$filter": f"mail eq '{quoted}' or userPrincipalName eq '{quoted}'", "$select": USER_FIELDS}
        found = await self._call("GET", "/users", params=params)
        users = found.get("value", []) if isinstance(found, dict) else []
        if len(users) != 1:
            return None
        user = users[0]
        groups = await self._groups(str(user["id"]))
        upn = str(user.get("userPrincipalName") or "")
        other = [str(m) for m in user.get("otherMails") or []]
        return DirectoryAccount(
            id=str(user["id"]),
            email=str(user.get("mail") or upn).lower(),
            username=str(user.get("mailNickname") or upn.split("@")[0]),
            display_name=str(user.get("displayName") or ""),
            locked=None,
            disabled=user.get("accountEnabled") is False,
            groups=groups,
            alternate_email=other[0] if other else None,
            last_reset=_iso(user.get("lastPasswordChangeDateTime")),
        )

    async def unlock(self, account: DirectoryAccount) -> None:
        """Graph cannot clear a smart lockout: a technician does it."""
        raise DirectoryError("unsupported", "Microsoft Graph has no call to unlock an account", SYSTEM)

    async def reset_password(self, account: DirectoryAccount, password: str) -> None:
        """Set a temporary password with ``forceChangePasswordNextSignIn``."""
        body = {"passwordProfile": {"forceChangePasswordNextSignIn": True, "password": password}}
        await self._call("PATCH", f"/users/{account.id}", json=body, what="reset")

    # HTTP ---------------------------------------------------------------------

    async def _groups(self, user_id: str) -> tuple[str, ...]:
        names: list[str] = []
        url: str | None = f"{self.base_url}/users/{user_id}/transitiveMemberOf?$select=displayName"
        while url:
            page = await self._call("GET", url)
            names += [str(g["displayName"]) for g in page.get("value", []) if g.get("displayName")]
            url = page.get("@odata.nextLink")
        return tuple(sorted(names, key=str.casefold))

    async def _access_token(self, session: aiohttp.ClientSession) -> str:
        if self._token and self._token[1] > time.monotonic() + 60:
            return self._token[0]
        form = {"client_id": self.client_id, "client_secret": self._client_secret, "scope": SCOPE,
                "grant_type": "client_credentials"}
        async with session.post(self.token_url, data=form) as response:
            payload = await _json(response)
            if response.status != 200 or "access_token" not in payload:
                code = payload.get("error", response.status)
                raise DirectoryError("bind_refused", f"the token endpoint refused the app's credentials ({code})",
                                     SYSTEM)
        self._token = (str(payload["access_token"]), time.monotonic() + float(payload.get("expires_in", 3599)))
        return self._token[0]

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                    json: dict[str, Any] | None = None, what: str = "lookup") -> dict[str, Any]:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                token = await self._access_token(session)
                headers = {"Authorization": f"Bearer {token}"}
                async with session.request(method, url, params=params, json=json, headers=headers) as response:
                    payload = await _json(response)
                    if response.status < 300:
                        return payload
                    _raise(response.status, payload, what)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DirectoryError("unreachable", f"Microsoft Graph did not answer ({type(exc).__name__})",
                                 SYSTEM) from None
        return {}


def _raise(status: int, payload: dict[str, Any], what: str) -> None:
    found = payload.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or status)
    message = str(error.get("message") or "")
    if status in (401, 403):
        raise DirectoryError("bind_refused", f"Graph refused the app ({code}); check its permissions", SYSTEM)
    if status == 404:
        raise DirectoryError("not_found", "the account is no longer in Entra ID", SYSTEM)
    if status == 400 and what == "reset" and "password" in message.lower():
        raise DirectoryError("password_rejected", f"Entra ID's password policy refused the new password ({code})",
                             SYSTEM)
    if status >= 500 or status == 429:
        raise DirectoryError("unreachable", f"Microsoft Graph answered {status} ({code})", SYSTEM)
    raise DirectoryError("refused", f"Microsoft Graph refused the {what} ({status} {code})", SYSTEM)


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    if response.status == 204:
        return {}
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
