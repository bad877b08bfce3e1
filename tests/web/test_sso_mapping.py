"""SSO sign-in: users matched on (issuer, subject), memberships from claims, invitations, e-mail domains."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation

from incidentfox_web.oidc import SsoBackend, SsoRefused, parse_group_roles, sso_sign_in
from tenancy.models import Membership, Node, NodeType, OidcIdentity, Organization, Role
from tenancy.services import node_create
from tests.conftest import SYSTEM

ISSUER = "https://idp.acme.test"
CLIENT = "incidentfox-web"


@pytest.fixture
def sso_org(org: Organization, team: Node, other_team: Node, settings: Any) -> Organization:
    org.oidc_issuer, org.oidc_client_id, org.oidc_admin_group = ISSUER, CLIENT, "incidentfox-admins"
    org.save()
    settings.OIDC_GROUP_ROLES = {"sre-leads": ["team-payments:admin"], "readers": ["team-platform:viewer"]}
    return org


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "subject-1", "email": "jane@acme.test", "email_verified": True, "teams": ["team-platform"], **extra}


def roles_of(user) -> dict[str, tuple[str, str]]:
    return {m.node.node_id: (m.role, m.source) for m in Membership.objects.filter(user=user).select_related("node")}


def sign_in(**extra: Any):
    return sso_sign_in(issuer=ISSUER, client_id=CLIENT, claims=claims(**extra))


def test_first_sign_in_creates_a_user_linked_to_issuer_and_subject_with_claim_memberships(sso_org):
    outcome = sign_in()
    assert outcome.created is True
    identity = OidcIdentity.objects.get(issuer=ISSUER, subject="subject-1")
    assert identity.user == outcome.user
    assert identity.org == sso_org
    assert outcome.user.email == "jane@acme.test"
    assert not outcome.user.has_usable_password()
    assert roles_of(outcome.user) == {"team-platform": ("operator", "claims")}


def test_the_next_sign_in_finds_the_same_user_by_subject_even_if_the_email_changed(sso_org):
    first = sign_in().user
    again = sign_in(email="jane.doe@acme.test")
    assert again.created is False
    assert again.user.pk == first.pk
    assert again.user.email == "jane.doe@acme.test"


def test_a_local_user_with_the_same_email_is_not_taken_over_without_an_invitation(sso_org):
    local = get_user_model().objects.create_user(username="jane-local", email="jane@acme.test", password="pw-123456!")
    outcome = sign_in()
    assert outcome.user.pk != local.pk


def test_an_invited_user_is_claimed_once_with_a_verified_email_and_keeps_manual_memberships(sso_org, other_team):
    invited = get_user_model().objects.create_user(username="jane", email="Jane@acme.test")
    Membership.objects.create(user=invited, node=other_team, role=Role.ADMIN, source="manual")
    outcome = sign_in()
    assert outcome.user.pk == invited.pk
    assert outcome.created is False
    assert roles_of(invited) == {"team-platform": ("operator", "claims"), "team-payments": ("admin", "manual")}


def test_an_unverified_email_does_not_claim_an_invitation(sso_org, other_team):
    invited = get_user_model().objects.create_user(username="jane", email="jane@acme.test")
    Membership.objects.create(user=invited, node=other_team, role=Role.ADMIN, source="manual")
    assert sign_in(email_verified=False).user.pk != invited.pk


def test_claim_memberships_follow_the_claims_at_every_sign_in_and_manual_ones_stay(sso_org, other_team):
    user = sign_in().user
    Membership.objects.create(user=user, node=other_team, role=Role.VIEWER, source="manual")
    sign_in(teams=[], groups=["readers"])
    assert roles_of(user) == {"team-platform": ("viewer", "claims"), "team-payments": ("viewer", "manual")}


def test_groups_map_to_roles_and_the_admin_group_makes_an_org_admin_with_admin_site_access(sso_org):
    outcome = sign_in(teams=[], groups=["sre-leads", "incidentfox-admins"])
    assert roles_of(outcome.user) == {"team-payments": ("admin", "claims"), "org-acme": ("org_admin", "claims")}
    assert outcome.user.is_staff is True
    sign_in(groups=[])
    outcome.user.refresh_from_db()
    assert outcome.user.is_staff is False


def test_team_ids_that_are_not_nodes_of_the_org_are_ignored(sso_org, outsider_team):
    outcome = sign_in(teams=["team-platform", "no-such-team"])
    assert set(roles_of(outcome.user)) == {"team-platform"}


def test_a_sign_in_without_any_membership_is_refused_and_creates_nobody(sso_org):
    with pytest.raises(SsoRefused, match="not a member of any team"):
        sign_in(teams=[])
    assert not OidcIdentity.objects.exists()
    assert not get_user_model().objects.filter(username__startswith="sso_").exists()


@pytest.mark.parametrize(
    ("email", "verified", "allowed"),
    [
        ("jane@acme.test", True, True),
        ("jane@ACME.test", True, True),
        ("jane@evil.test", True, False),
        ("jane@acme.test", False, False),
        (None, True, False),
    ],
)
def test_allowed_email_domains_are_enforced(sso_org, email, verified, allowed):
    sso_org.allowed_email_domains = ["acme.test"]
    sso_org.save()
    extra = {"email": email, "email_verified": verified}
    if allowed:
        assert sign_in(**extra).user
    else:
        with pytest.raises(SsoRefused, match="domain"):
            sign_in(**extra)


def test_an_issuer_no_org_uses_is_refused(sso_org):
    with pytest.raises(SsoRefused, match="No organisation"):
        sso_sign_in(issuer="https://other-idp.test", client_id=CLIENT, claims=claims())


def test_a_subject_of_another_org_is_refused(sso_org, other_org):
    user = sign_in().user
    OidcIdentity.objects.filter(user=user).update(org=other_org)
    with pytest.raises(SsoRefused, match="another organisation"):
        sign_in()


@pytest.mark.parametrize("raw", [[], {"g": "team:admin"}, {"g": ["team"]}, {"g": ["team:boss"]}])
def test_malformed_group_role_settings_are_rejected(raw):
    with pytest.raises(ValueError, match="OIDC_GROUP_ROLES"):
        parse_group_roles(raw)


class _Backend(SsoBackend):
    def __init__(self, key) -> None:
        super().__init__()
        self._key = key

    def retrieve_matching_jwk(self, token):
        return self._key


@pytest.fixture
def rsa_backend(settings):
    settings.OIDC_OP_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = CLIENT
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/jwks"
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _Backend(private.public_key()), private


def _token(private, **claims_: Any) -> str:
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "s", "nonce": "n", "exp": 4_000_000_000, **claims_}
    return jwt.encode(body, private, algorithm="RS256", headers={"kid": "k"})


def test_the_backend_accepts_an_rs256_id_token_for_this_client_from_the_configured_issuer(rsa_backend):
    backend, private = rsa_backend
    assert backend.verify_token(_token(private), nonce="n")["sub"] == "s"


@pytest.mark.parametrize(
    "bad",
    [{"iss": "https://evil.test"}, {"aud": "another-client"}, {"aud": [CLIENT, "x"], "azp": "x"}, {"nonce": "other"}],
)
def test_the_backend_rejects_id_tokens_from_elsewhere_for_others_or_replayed(rsa_backend, bad):
    backend, private = rsa_backend
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(_token(private, **bad), nonce="n")


def test_the_backend_rejects_an_hs256_token_even_if_everything_else_matches(rsa_backend):
    backend, _ = rsa_backend
    token = jwt.encode({"iss": ISSUER, "aud": CLIENT, "sub": "s", "nonce": "n"}, "k" * 32, algorithm="HS256")
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(token, nonce="n")


def test_local_login_can_be_switched_off(db, settings, client):
    get_user_model().objects.create_user(username="local", password="pw-123456!")
    assert client.post("/login/", {"username": "local", "password": "pw-123456!"}).status_code == 302
    client.logout()
    settings.LOCAL_LOGIN_ENABLED = False
    assert client.post("/login/", {"username": "local", "password": "pw-123456!"}).status_code == 404
    from django.contrib.auth import authenticate

    assert authenticate(username="local", password="pw-123456!") is None
    assert b'name="password"' not in client.get("/login/").content


def test_the_admin_login_goes_through_the_app_login_page(db, client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"


def test_node_names_in_group_mapping_can_be_groups_of_the_tree(sso_org, settings):
    group = node_create(org=sso_org, node_id="sre", name="SRE", node_type=NodeType.GROUP, meta=SYSTEM)
    node_create(org=sso_org, node_id="team-db", name="DB", parent=group, node_type=NodeType.TEAM, meta=SYSTEM)
    settings.OIDC_GROUP_ROLES = {"sre-all": ["sre:operator"]}
    user = sign_in(teams=[], groups=["sre-all"]).user
    assert roles_of(user) == {"sre": ("operator", "claims")}
