# microdhcp-board: written by tools/units.py from its table; edit the table, not this file.
metadata(description="microdhcp board layer: access-point start, station filter, serve loop", version="0.2.0")

add_library("microdhcp-units", "..")
require("microdhcp-core", library="microdhcp-units")
require("microdhcp-store", library="microdhcp-units")
package("microdhcp", base_path="../..", files=[
    "board.py",
])
