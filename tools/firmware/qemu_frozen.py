# Frozen modules of the Cortex-M3 (qemu MPS2_AN385) build (tools/build_firmware.py): microdhcp only.
include("../../firmware/manifest.py")
