# microdhcp-kit: written by tools/units.py from its table; edit the table, not this file.
# version 0.2.0 (microdhcp.__version__; not in metadata(), see tools/units.py)
metadata(description="microdhcp captive-portal kit: DNS and HTTP beside the DHCP server (needs microdot)")

add_library("microdhcp-units", "..")
require("microdhcp-board", library="microdhcp-units")
package("microdhcp", base_path="../..", files=[
    "dns.py",
    "dnsserver.py",
    "web.py",
    "kit.py",
])
