# microdhcp-host: written by tools/units.py from its table; edit the table, not this file.
# version 0.2.0 (microdhcp.__version__; not in metadata(), see tools/units.py)
metadata(description="microdhcp host command (python3/micropython -m microdhcp); not for boards")

add_library("microdhcp-units", "..")
require("microdhcp-core", library="microdhcp-units")
require("microdhcp-store", library="microdhcp-units")
require("microdhcp-kit", library="microdhcp-units")
require("microdhcp-client", library="microdhcp-units")
package("microdhcp", base_path="../..", files=[
    "__main__.py",
    "settings.py",
    "fastlog.py",
])
