# Freezes microdhcp into a custom MicroPython firmware (frozen bytecode runs from flash, so the
# package costs no RAM for its code). In the port's board manifest, or with FROZEN_MANIFEST=...:
#   include("$(MPY_DIR)/ports/esp32/boards/manifest.py")      # or ports/rp2/boards/manifest.py
#   include("/path/to/microdhcp/firmware/manifest.py")
# The boards' main.py and config.py stay on the filesystem (config.py is edited by the user).
metadata(description="DHCPv4 server for MicroPython boards (RFC 2131/2132)", version="0.1.0")

package("microdhcp", base_path=".")
