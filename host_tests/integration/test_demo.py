# The README's main job, `make demo`: tools/demo.py (the server on the MicroPython unix port and
# on CPython, six real clients, a renewal, a release, the lease table) and tools/demo_portal.py
# (the captive-portal kit). Each builds and removes its own lab and exits 0 only when every step
# was seen on both sides; run here so that the quick start cannot break unnoticed.
import os
import subprocess
import sys

import pytest

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools")


def _run(script, runtime):
    r = subprocess.run([sys.executable, os.path.join(TOOLS, script), "--runtime", runtime],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "%s --runtime %s exit %s:\n%s\n%s" % (script, runtime, r.returncode, r.stdout[-3000:],
                                                                   r.stderr[-2000:])
    return r.stdout


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_make_demo_serves_six_real_clients(runtime):
    out = _run("demo.py", runtime)
    assert "== done: 6 clients bound, 1 renewed, 1 released, on %s; lab torn down" % runtime in out, out[-2000:]


def test_make_demo_portal_kit():
    out = _run("demo_portal.py", "micropython")
    assert out.rstrip().endswith("demo_portal: ok"), out[-2000:]
