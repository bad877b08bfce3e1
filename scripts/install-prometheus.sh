#!/bin/sh
# Installs the Debian prometheus and prometheus-alertmanager binaries used by the real-Prometheus engine tests and
# the real-Alertmanager webhook test.
# Idempotent: does nothing when both are on PATH or when not running as root.
# The Debian services are not started by the tests; they run their own servers on loopback ports.
set -eu
if command -v prometheus >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-prometheus: prometheus or prometheus-alertmanager is missing and we are not root; skipping" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# policy-rc.d stops the packages' post-install scripts from starting the system services.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager
