#!/bin/sh
# Installs the Debian prometheus binary used by the engine's real-Prometheus tests.
# Idempotent: does nothing when prometheus is on PATH or when not running as root.
# The Debian service is not started by the tests; they run their own server on a loopback port.
set -eu
if command -v prometheus >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-prometheus: prometheus is missing and we are not root; skipping" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# policy-rc.d stops the package's post-install script from starting the system service.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends prometheus
