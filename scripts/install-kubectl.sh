#!/bin/sh
# Installs Debian's kubectl, which renders the Kubernetes manifests (`kubectl kustomize`) for scripts/check-deploy.sh.
# Idempotent: does nothing when kubectl is on PATH or when not running as root.
set -eu
if command -v kubectl >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-kubectl: kubectl is missing and we are not root; skipping" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends kubectl
