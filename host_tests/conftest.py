# pytest set-up shared by core and integration tests: firmware/ and host_tests/core on sys.path,
# and tools/ behind them for tools/dhcpkit.py (the message builder tests and tools share).
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for p in (os.path.join(_here, "core"), os.path.join(_here, "..", "firmware")):
    if p not in sys.path:
        sys.path.insert(0, p)
_tools = os.path.join(_here, "..", "tools")
if _tools not in sys.path:
    sys.path.append(_tools)

# Config keeps its checking code loaded between the suite's thousands of Configs (microdhcp.config
# release_checks; test_config.test_config_lets_its_checking_code_go turns the release back on).
import microdhcp.config  # noqa: E402

microdhcp.config.release_checks = False
