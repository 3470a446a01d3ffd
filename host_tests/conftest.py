# pytest set-up shared by core and integration tests: firmware/ and host_tests/core on sys.path.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for p in (os.path.join(_here, "core"), os.path.join(_here, "..", "firmware")):
    if p not in sys.path:
        sys.path.insert(0, p)
