# microdhcp-board: written by tools/units.py from its table; edit the table, not this file.
# version 0.2.0 (microdhcp.__version__; not in metadata(), see tools/units.py)
metadata(description="microdhcp board layer: access-point start, station filter, serve loop")

add_library("microdhcp-units", "..")
require("microdhcp-core", library="microdhcp-units")
require("microdhcp-store", library="microdhcp-units")
package("microdhcp", base_path="../..", files=[
    "board.py",
])
