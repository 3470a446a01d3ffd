#!/bin/sh
# typecheck: firmware/ and boards/ type-checked with mypy against the MicroPython stubs of the ports
# they run on (micropython-esp32-stubs, micropython-rp2-stubs; pinned in tools/requirements-stubs-*.txt
# and installed here into build/stubs/<port>, one directory per port since both packages provide the
# same top-level modules). Every firmware API used must exist in the stubs. Exits non-zero on errors.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m mypy --version >/dev/null 2>&1 || { echo "typecheck: mypy missing: pip install -r tools/requirements-dev.txt" >&2; exit 2; }
status=0
for port in esp32 rp2; do
    stubs=build/stubs/$port
    req=tools/requirements-stubs-$port.txt
    if [ ! -f "$stubs/.installed" ] || ! cmp -s "$req" "$stubs/.installed"; then
        rm -rf "$stubs"
        PIP_ROOT_USER_ACTION=ignore $PY -m pip install -q --disable-pip-version-check --target "$stubs" -r "$req"
        cp "$req" "$stubs/.installed"
    fi
    case $port in esp32) boards="esp32_ap esp32_lan esp32_captive";; rp2) boards="rp2_pico_w w5500_evb_pico rp2_pico_w_captive";; esac
    echo "typecheck: firmware/microdhcp against $port stubs"
    (cd firmware && MYPYPATH=../$stubs $PY -m mypy --config-file ../tools/mypy.ini \
        --custom-typeshed-dir ../$stubs --cache-dir ../build/mypy-cache/$port -p microdhcp) || status=1
    for b in $boards; do
        echo "typecheck: boards/$b against $port stubs"
        (cd boards/$b && MYPYPATH=../../$stubs:../../firmware $PY -m mypy --config-file ../../tools/mypy.ini \
            --custom-typeshed-dir ../../$stubs --cache-dir ../../build/mypy-cache/$port-$b main.py config.py) || status=1
    done
done
[ $status = 0 ] && echo "typecheck: ok"
exit $status
