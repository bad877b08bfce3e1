"""cert-manager objects are read in the text forms people paste (``cmctl status``, describe excerpts): a failing
condition names the object and the concrete reason; a Ready certificate with a renewal time needs nothing."""
# ruff: noqa: E501  (tool output lines are quoted as printed)

from __future__ import annotations

from datetime import UTC, datetime

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate
from engine.analyzers.certificates import read_objects
from engine.parsers.detect import parse_attachment

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def run(message: str, *attachments: tuple[str, str], **context: object):
    files = [Attachment(name=name, content=content) for name, content in attachments]
    request = InvestigationRequest(message=message, now=NOW, context=InvestigationContext(**context, attachments=files))
    return investigate(request)


CMCTL_FAILING = """$ cmctl status certificate wiki-tls -n docs
Name: wiki-tls
Namespace: docs
Conditions:
  Ready: False, Reason: DoesNotExist, Message: Issuing certificate as Secret does not exist
  Issuing: True, Reason: DoesNotExist, Message: Issuing certificate as Secret does not exist
Issuer:
  Name: vault-issuer
  Kind: Issuer
  Conditions:
    Ready: False, Reason: VaultError, Message: Failed to initialize Vault client: error reading Kubernetes service account token from vault-auth: secret "vault-auth" not found
"""


def test_cmctl_output_is_read_as_a_certificate_and_its_nested_issuer():
    obs = parse_attachment(Attachment(name="cmctl.txt", content=CMCTL_FAILING)).observations
    kinds = {(item.kind, item.name) for item in read_objects(obs)}
    assert kinds == {("Certificate", "wiki-tls"), ("Issuer", "vault-issuer")}


def test_an_issuer_that_cannot_start_is_reported_with_its_own_message():
    report = run("why does wiki-tls never get issued?", ("cmctl.txt", CMCTL_FAILING), namespace="docs")
    assert "vault-auth" in report.summary


def test_a_ready_certificate_with_a_renewal_time_is_healthy_and_renews_by_itself():
    cmctl = """$ cmctl status certificate blog-tls
Name: blog-tls
Conditions:
  Ready: True, Reason: Ready, Message: Certificate is up to date and has not expired
Not After: 2026-10-01T00:00:00Z
Renewal Time: 2026-09-01T00:00:00Z
"""
    report = run("is blog-tls healthy?", ("cmctl.txt", cmctl))
    assert "renews it automatically at 2026-09-01" in report.summary
    assert "not healthy" not in report.summary


def test_an_ingress_serving_a_secret_no_certificate_renews_is_pointed_at_the_renewed_one():
    certs = "$ kubectl get certificate\nNAME      READY   SECRET       AGE\napi-tls   True    api-tls-new  9d\n"
    ingress = '$ kubectl get ingress api -o jsonpath=\'{.spec.tls}\'\n[{"hosts":["api.example.com"],"secretName":"api-tls"}]\n'
    report = run("api.example.com certificate expired", ("certs.txt", certs), ("ingress.txt", ingress))
    assert "Ingress api serves TLS from Secret api-tls" in report.root_cause.description
    assert "api-tls-new" in report.root_cause.description


def test_an_ingress_serving_the_secret_a_certificate_renews_is_not_flagged():
    certs = "$ kubectl get certificate\nNAME      READY   SECRET    AGE\napi-tls   True    api-tls   9d\n"
    ingress = '$ kubectl get ingress api -o jsonpath=\'{.spec.tls}\'\n[{"hosts":["api.example.com"],"secretName":"api-tls"}]\n'
    report = run("is the api certificate fine?", ("certs.txt", certs), ("ingress.txt", ingress))
    assert "serves TLS from Secret" not in report.root_cause.description


def test_a_synced_healthy_argocd_application_is_not_reported():
    app = "Name:               argocd/web\nSync Status:        Synced to main (1a2b3c)\nHealth Status:      Healthy\n\nGROUP  KIND  NAMESPACE  NAME  STATUS  HEALTH\n"
    report = run("is web ok in argo?", ("app.txt", app))
    assert "cannot sync" not in report.root_cause.description


def test_a_flux_table_row_that_is_ready_or_suspended_is_not_reported():
    table = "$ flux get kustomizations\nNAME\tREVISION\tSUSPENDED\tREADY\tMESSAGE\napps\tmain@sha1:1\tFalse\tTrue\tApplied revision: main@sha1:1\nold\tmain@sha1:1\tTrue\tFalse\tdependency not ready\n"
    report = run("flux ok?", ("flux.txt", table))
    assert "is not Ready" not in report.root_cause.description
