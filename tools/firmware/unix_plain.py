# Frozen modules of the 32-bit unix build WITHOUT microdhcp (tools/build_firmware.py): the same C
# code as unix_frozen.py's build (frozen-module support on, asyncio frozen), so that the two
# binaries differ only in where microdhcp's bytecode lives.
include("$(MPY_DIR)/extmod/asyncio")
