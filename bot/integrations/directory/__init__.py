"""The directory port and its adapters: LDAP/AD (``.ldap``), Entra ID (Graph, ``.graph``), and technician-assisted."""

from __future__ import annotations

from bot.core.errors import ConfigError
from bot.core.settings import Settings
from bot.integrations.directory.assisted import AssistedDirectory
from bot.integrations.directory.base import Directory, DirectoryAccount

__all__ = ["AssistedDirectory", "Directory", "DirectoryAccount", "build_directory"]


def build_directory(settings: Settings) -> Directory:
    """The directory ``HELPDESK_DIRECTORY`` names; ``auto`` picks LDAP or Graph when configured, else assisted."""
    kind = settings.directory
    if kind == "auto":
        kind = "ldap" if settings.ldap_url else "graph" if settings.graph_tenant_id else "assisted"
    if kind == "ldap":
        missing = [name for name, value in (("HELPDESK_LDAP_URL", settings.ldap_url),
                                            ("HELPDESK_LDAP_BIND_DN", settings.ldap_bind_dn),
                                            ("HELPDESK_LDAP_PASSWORD", settings.ldap_password),
                                            ("HELPDESK_LDAP_BASE_DN", settings.ldap_base_dn)) if not value]
        if missing:
            raise ConfigError(f"HELPDESK_DIRECTORY=ldap needs {', '.join(missing)}")
        assert settings.ldap_url and settings.ldap_bind_dn and settings.ldap_password and settings.ldap_base_dn
        # Imported only when configured, as the other adapters: ldap3 and aiohttp cost memory a shell never uses.
        from bot.integrations.directory.ldap import LdapDirectory

        return LdapDirectory(
            settings.ldap_url, settings.ldap_bind_dn, settings.ldap_password.get_secret_value(),
            settings.ldap_base_dn, tls_ca=str(settings.ldap_tls_ca) if settings.ldap_tls_ca else None,
            start_tls=settings.ldap_start_tls, flavor=settings.ldap_flavor, timeout=settings.ldap_timeout,
            alternate_email_attribute=settings.ldap_alternate_email_attribute,
        )
    if kind == "graph":
        missing = [name for name, value in (("HELPDESK_GRAPH_TENANT_ID", settings.graph_tenant_id),
                                            ("HELPDESK_GRAPH_CLIENT_ID", settings.graph_client_id),
                                            ("HELPDESK_GRAPH_CLIENT_SECRET", settings.graph_client_secret))
                   if not value]
        if missing:
            raise ConfigError(f"HELPDESK_DIRECTORY=graph needs {', '.join(missing)}")
        assert settings.graph_tenant_id and settings.graph_client_id and settings.graph_client_secret
        from bot.integrations.directory.graph import GraphDirectory

        return GraphDirectory(
            settings.graph_tenant_id, settings.graph_client_id, settings.graph_client_secret.get_secret_value(),
            authority_url=settings.graph_authority_url, base_url=settings.graph_base_url,
        )
    return AssistedDirectory()
