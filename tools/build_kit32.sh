#!/bin/sh
# build_kit32: a 32-bit MicroPython unix port with microdhcp and microdot frozen in, built from the
# vendored MicroPython source archive into build/kit32/ (nothing fetched; microdot comes from PyPI via
# tools/pylib.py). Small ints are 31-bit there, as on ESP32/RP2040, and frozen code stays out of the
# heap, as on a board with the package frozen into its firmware. Used for the kit's heap figure:
#   sh tools/build_kit32.sh && build/kit32/micropython tools/kit_memory.py
# Needs gcc-multilib (x86-32 through gcc -m32). The variant manifest (micropython-lib, not in the
# archive) is replaced by asyncio, microdhcp and microdot. MICRODHCP_VENDOR: the folder holding the archive (default: shared/vendor beside
# this repository's parent folder).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENDOR=${MICRODHCP_VENDOR:-$(dirname "$ROOT")/shared/vendor}
ARCHIVE=$(ls "$VENDOR"/micropython-v*.tar.gz | head -1)
OUT=build/kit32
SRC=$OUT/src
PY=${PYTHON:-python3}
PYLIB=$($PY tools/pylib.py)
mkdir -p "$SRC"
[ -f "$SRC/py/mpconfig.h" ] || tar -xzf "$ARCHIVE" -C "$SRC"
cat > "$OUT/manifest.py" <<EOM
include("\$(MPY_DIR)/extmod/asyncio")
include("$ROOT/firmware/manifest.py")
module("microdot.py", base_path="$PYLIB/microdot")
EOM
# The frozen-content rule insists on a micropython-lib checkout (the archive has none); this
# manifest uses nothing from it, so an empty stand-in with the README it looks for will do.
mkdir -p "$OUT/no-micropython-lib"
echo "(empty: build_kit32.sh freezes nothing from micropython-lib)" > "$OUT/no-micropython-lib/README.md"
make -s -C "$SRC/mpy-cross" -j2 >/dev/null
# x86-32 through gcc -m32 (gcc-multilib): the port's README treats x86 as a cross target.
make -s -C "$SRC/ports/unix" -j2 VARIANT=standard CC="gcc -m32" LD="gcc -m32" MICROPY_PY_FFI=0 \
    MICROPY_PY_BTREE=0 MICROPY_SSL_AXTLS=0 MICROPY_PY_SSL=0 FROZEN_MANIFEST="$ROOT/$OUT/manifest.py" MPY_LIB_DIR="$ROOT/$OUT/no-micropython-lib" \
    BUILD="$ROOT/$OUT/obj" PROG=micropython >/dev/null
cp "$OUT/obj/micropython" "$OUT/micropython"
echo "$OUT/micropython"
