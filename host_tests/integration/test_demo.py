# The README's main job, `make demo`: tools/demo.py (the server on the MicroPython unix port and
# on CPython, six real clients, a renewal, a release, the lease table) and tools/demo_portal.py
# (the captive-portal kit). Each builds and removes its own lab and exits 0 only when every step
# was seen on both sides; run here so that the quick start cannot break unnoticed.
import os
import subprocess
import sys

import pytest

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools")


def _run(script, runtime, timeout=300):
    p = subprocess.Popen([sys.executable, os.path.join(TOOLS, script), "--runtime", runtime],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGTERM first: the demo's lab turns it into a clean exit that removes its namespaces and
        # servers (a SIGKILL would leave them for the next lab's clean-up); then SIGKILL.
        p.terminate()
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        raise AssertionError("%s --runtime %s: no end within %d s:\n%s\n%s" % (script, runtime, timeout, out[-3000:],
                                                                              err[-2000:]))
    assert p.returncode == 0, "%s --runtime %s exit %s:\n%s\n%s" % (script, runtime, p.returncode, out[-3000:],
                                                                   err[-2000:])
    return out


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_make_demo_serves_six_real_clients(runtime):
    out = _run("demo.py", runtime)
    assert "== done: 6 clients bound, 1 renewed, 1 released, on %s; lab torn down" % runtime in out, out[-2000:]


def test_make_demo_portal_kit():
    out = _run("demo_portal.py", "micropython")
    assert out.rstrip().endswith("demo_portal: ok"), out[-2000:]
