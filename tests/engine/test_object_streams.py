"""Kubernetes objects printed one after another (``jq``) and label columns (``-L``) are read as objects."""

from __future__ import annotations

from engine.models import Attachment
from engine.parsers.detect import parse_attachment


def test_objects_printed_one_per_line_by_jq_are_read_as_objects():
    content = (
        '{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"x"},"spec":{"selector":{"app":"a"}}}\n'
        '{"apiVersion":"v1","kind":"Service","metadata":{"name":"b","namespace":"x"},"spec":{"selector":{"app":"b"}}}\n'
    )
    parsed = parse_attachment(Attachment(name="svc.json", content=content))
    assert sorted(s.name for s in parsed.observations.services) == ["a", "b"]


def test_json_lines_of_an_application_stay_logs():
    content = '{"level":"info","msg":"started"}\n{"level":"error","msg":"db down"}\n'
    parsed = parse_attachment(Attachment(name="app.log", content=content))
    assert parsed.kind == "logs"


def test_pretty_printed_objects_one_after_another_are_read_as_objects():
    content = (
        '{"apiVersion": "v1", "kind": "Service",\n "metadata": {"name": "a"}}\n'
        '{"apiVersion": "v1",\n "kind": "Service", "metadata": {"name": "b"}}\n'
    )
    parsed = parse_attachment(Attachment(name="svc.json", content=content))
    assert sorted(r.name for r in parsed.observations.resources if r.kind == "Service") == ["a", "b"]


def test_label_columns_become_the_pods_labels():
    content = (
        "$ kubectl get pods -L app,app.kubernetes.io/version\n"
        "NAME      READY   STATUS    RESTARTS   AGE   APP   VERSION\n"
        "web-1     1/1     Running   0          1d    web   v3\n"
    )
    pod = parse_attachment(Attachment(name="pods.txt", content=content)).observations.pods[0]
    assert pod.labels == {"app": "web", "app.kubernetes.io/version": "v3"}


def test_a_label_selector_is_not_read_as_label_columns():
    content = (
        "$ kubectl get pods -l app=web\n"
        "NAME    READY   STATUS    RESTARTS   AGE\n"
        "web-1   1/1     Running   0          1d\n"
    )
    pod = parse_attachment(Attachment(name="pods.txt", content=content)).observations.pods[0]
    assert pod.labels == {}
