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

import pytest  # noqa: E402

# MICRODHCP_REQUIRE_LAB=1 (CI; tools/run_tests.py sets it as root, where tools/setup.sh has
# installed every tool): a test skipped for a missing tool (micropython, mpremote, kea-lfc, the
# lab's binaries, ...) fails instead, so a run cannot pass with a check silently left out. Only a
# test marked `host_condition` may still skip, for what no install can change (the host's uptime).
_REQUIRED = os.environ.get("MICRODHCP_REQUIRE_LAB") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "host_condition: may skip under MICRODHCP_REQUIRE_LAB=1 for a "
                                       "condition of the host that no install changes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if _REQUIRED and rep.skipped and not hasattr(rep, "wasxfail") and item.get_closest_marker("host_condition") is None:
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = "skipped, but MICRODHCP_REQUIRE_LAB=1 asks every test to run: %s" % reason
