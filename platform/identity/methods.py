"""Which ways of signing in a tenant allows: a typed tenant setting owned by the identity kernel."""

from __future__ import annotations

from sqlalchemy.orm import Session

from renda.platform.errors import N_
from renda.platform.tenancy.settings import SettingSpec, get_setting

LOCAL = "local"
KEYCLOAK = "keycloak"

LOGIN_METHODS = SettingSpec(
    "login_methods", "choices", [LOCAL, KEYCLOAK], N_("Sign-in methods"),
    N_("Local accounts, unified identity (Keycloak), or both."),
    options=(LOCAL, KEYCLOAK),
    option_labels={LOCAL: N_("Local accounts"), KEYCLOAK: N_("Unified identity (Keycloak)")},
    group=N_("Sign-in"))


def allows(session: Session, tenant_id: int, method: str) -> bool:
    return method in (get_setting(session, tenant_id, "login_methods") or [])
