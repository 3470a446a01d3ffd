# Frozen modules of the Cortex-M3 (qemu MPS2_AN385) build (tools/build_firmware.py): microdhcp only.
include("../../firmware/manifest.py")
# The memory workload (host_tests/mem_dora.py), frozen so that measuring the heap compiles no
# script into it; it is test code, counted apart from the package in every flash figure.
module("mem_dora.py", base_path="../../host_tests")
