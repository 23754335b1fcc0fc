"""The personas' accounts at Microsoft Entra ID: tenant, mail, groups and app roles.

Alice and Bob work at Contoso, which verified example.com (Alice's address) as its own
domain; Dana and Casey are in Fabrikam; Erin and 김지우 have personal Microsoft accounts,
which all share the consumers tenant; Adelheid is in 242 of Contoso's groups, past the 200
an ID token holds; Mallory administers her own tenant, Northwind, where she set her mail
to alice@example.com and gave herself the app's admin role: the "nOAuth" pattern.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from ..personas import Persona

CONSUMERS = "9188040d-6c67-4c5b-b112-36a304b66dad"  # every personal Microsoft account's tenant
CONTOSO = "4a3c7f52-9b1e-4d8a-a6f0-3e2d1c0b9a87"
FABRIKAM = "d5e6f7a8-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
NORTHWIND = "9e4f8462-b141-41ec-bea7-a7c894f4c6fa"  # Mallory's own tenant: she is its admin
DOMAINS = {
    CONTOSO: "contoso.onmicrosoft.com",
    FABRIKAM: "fabrikam.onmicrosoft.com",
    NORTHWIND: "northwind.onmicrosoft.com",
}
GROUPS_IN_A_JWT = 200  # past this many, an ID token carries the overage indicator instead


@dataclass(frozen=True)
class EntraAccount:
    """A persona's account at Microsoft: in a tenant, or personal (``CONSUMERS``)."""

    tenant: str
    email_domain_verified: bool = False  # xms_edov
    mail: str | None = None  # the `email` claim when it is not the persona's own address
    more_groups: int = 0  # groups in the tenant's directory besides the persona's own
    roles: tuple[str, ...] | None = None  # app roles assigned in the tenant; None: the persona's


ACCOUNTS: dict[str, EntraAccount] = {
    # Contoso verified example.com, so Alice's address is domain-owner verified.
    "alice": EntraAccount(CONTOSO, email_domain_verified=True),
    "bob": EntraAccount(CONTOSO),
    "dana": EntraAccount(FABRIKAM),
    # Personal Microsoft accounts: Microsoft verified the address when the account was made.
    "erin": EntraAccount(CONSUMERS, email_domain_verified=True),
    "jiwoo": EntraAccount(CONSUMERS, email_domain_verified=True),
    "noemail": EntraAccount(FABRIKAM),
    "longname": EntraAccount(CONTOSO, more_groups=230),  # 242 groups: the overage
    # nOAuth: in her own tenant Mallory set her mail to Alice's address, and assigned herself
    # the app's admin role. Neither is worth anything outside Northwind.
    "mallory": EntraAccount(NORTHWIND, mail="alice@example.com", roles=("admin",)),
}


def group_id(tenant: str, group: str) -> str:
    """A group's object id in a tenant: what ``groups`` carries (names are not unique, ids are)."""
    digest = hashlib.sha256(f"ms-group:{tenant}:{group}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def mail_of(persona: Persona) -> str | None:
    """The user's mail attribute, the ``email`` claim: whatever the tenant's admin typed."""
    return ACCOUNTS[persona.username].mail or persona.email


def group_ids(persona: Persona) -> list[str]:
    """The object ids of the person's groups in their tenant; personal accounts have none."""
    account = ACCOUNTS[persona.username]
    if account.tenant == CONSUMERS:
        return []
    names = [*persona.groups, *(f"directory-{n:03d}" for n in range(1, account.more_groups + 1))]
    return [group_id(account.tenant, name) for name in names]


def app_roles(persona: Persona) -> list[str]:
    """The app roles assigned to the person in their tenant; personal accounts have none."""
    account = ACCOUNTS[persona.username]
    if account.tenant == CONSUMERS:
        return []
    return list(persona.roles if account.roles is None else account.roles)
