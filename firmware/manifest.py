# Freezes microdhcp into a custom MicroPython firmware (frozen bytecode runs from flash, so the
# package costs no RAM for its code). In the port's board manifest, or with FROZEN_MANIFEST=...:
#   include("$(MPY_DIR)/ports/esp32/boards/manifest.py")      # or ports/rp2/boards/manifest.py
#   include("/path/to/microdhcp/firmware/manifest.py")
# The boards' main.py and config.py stay on the filesystem (config.py is edited by the user).
# Every unit a board runs (firmware/units/); not the host command (microdhcp-host), which a
# board never runs. The captive-portal kit also needs microdot frozen beside it (docs/portal.md).
# Written by tools/units.py; a smaller firmware can include single units instead.
metadata(description="DHCPv4 server for MicroPython boards (RFC 2131/2132)", version="0.2.0")

add_library("microdhcp-units", "units")
require("microdhcp-core", library="microdhcp-units")
require("microdhcp-store", library="microdhcp-units")
require("microdhcp-board", library="microdhcp-units")
require("microdhcp-kit", library="microdhcp-units")
require("microdhcp-client", library="microdhcp-units")
