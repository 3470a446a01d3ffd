# microdhcp-store: written by tools/units.py from its table; edit the table, not this file.
# version 0.2.0 (microdhcp.__version__; not in metadata(), see tools/units.py)
metadata(description="microdhcp lease store: leases kept across resets in a crash-safe file")

add_library("microdhcp-units", "..")
require("microdhcp-core", library="microdhcp-units")
package("microdhcp", base_path="../..", files=[
    "store.py",
])
