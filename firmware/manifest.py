# Freezes microdhcp into a custom MicroPython firmware (frozen bytecode runs from flash, so the
# package costs no RAM for its code). In the port's board manifest, or with FROZEN_MANIFEST=...:
#   include("$(MPY_DIR)/ports/esp32/boards/manifest.py")      # or ports/rp2/boards/manifest.py
#   include("/path/to/microdhcp/firmware/manifest.py")
# The boards' main.py and config.py stay on the filesystem (config.py is edited by the user).
# Everything a board runs; the host command (__main__.py, settings.py) is not frozen: a board
# never runs it, and its help text would only take flash.
metadata(description="DHCPv4 server for MicroPython boards (RFC 2131/2132)", version="0.1.0")

package("microdhcp", files=[
    "__init__.py", "board.py", "client.py", "clientnet.py", "clock.py", "config.py", "dns.py", "dnsserver.py",
    "engine.py", "errors.py", "ipv4.py", "kit.py", "leases.py", "net.py", "packet.py", "status.py", "store.py",
    "web.py",
], base_path=".")
