# The captive-portal board examples (boards/esp32_captive, boards/rp2_pico_w_captive) start unmodified
# on the board simulator (host_tests/sim, as test_boards.py uses it): bind-first on UDP 67 (the
# firmware's server loses its bind), UDP 53 held for DNS, both on the AP, and the kit's asyncio loop
# entered with microdot importable. What the simulator cannot show: serving inside that loop. The
# unix port's C asyncio queue stamps tasks with the real clock (extmod/modasyncio.c:70,
# mp_hal_ticks_ms) while the simulator's time module runs its own clock, so the loop's first wake-up
# lies ~real uptime away in simulated time. Serving in the loop is shown by the core test test_kit
# (both runtimes) and the namespace-lab tests (test_portal_lab.py).
import os
import shutil

import pytest

from test_boards import Board, mpy_dir, MICROPYTHON, ROOT  # noqa: F401  (mpy_dir: fixture)

pytestmark = pytest.mark.skipif(MICROPYTHON is None, reason="micropython (unix port) not installed")


@pytest.fixture
def lib(tmp_path, mpy_dir):
    # The package as .mpy and microdot (tools/pylib.py, from PyPI) in one directory, as mip leaves
    # them in a board's /lib.
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import pylib
    d = tmp_path / "lib"
    d.mkdir()
    shutil.copytree(os.path.join(mpy_dir, "microdhcp"), str(d / "microdhcp"))
    shutil.copy(os.path.join(pylib.ensure(), "microdot", "microdot.py"), str(d / "microdot.py"))
    return str(d)


@pytest.mark.parametrize("board,flavour", [("esp32_captive", "esp32"), ("rp2_pico_w_captive", "pico_w")])
def test_captive_board_starts_dhcp_and_dns_and_enters_the_loop(tmp_path, lib, board, flavour):
    d = tmp_path / "b"
    d.mkdir()
    # test_boards' path plus .frozen: asyncio is frozen into the unix port, as into board firmware.
    path = ":".join([os.path.join(ROOT, "host_tests", "sim"), lib, os.path.join(ROOT, "boards", board), ".frozen"])
    b = Board(d, board, flavour, {"MICROPYPATH": path}, "RUN_SECONDS = 600", lib)
    try:
        st = b.state()
        assert st["fw"] == "bind-failed" and st["port67"] == ["app"], st
        assert st["app_sockets"] == 2, st                  # DHCP on 67 and DNS on 53
        if flavour == "esp32":
            assert st["app_device"] == ["ap", "ap"], st    # both bound to the AP netif
        assert any("kit serving 192.168.4.0/24: dns captive, http port 80" in l for l in b.console), b.console
        rest = b.quit()
        assert not any("Traceback" in l or "Error" in l for l in b.console + rest), b.console + rest
    finally:
        b.close()


def test_deploy_of_a_captive_board_puts_microdot_beside_the_package(tmp_path):
    # tools/deploy.py for *_captive: the package, microdot.mpy (from PyPI via tools/pylib.py, compiled
    # with mpy-cross) into :lib, the board files; run against the unix port as a board, after which
    # the kit's web part imports from that lib alone.
    import subprocess
    import sys
    from test_deploy import UnixBoard, dry_run, MPREMOTE
    if MPREMOTE is None:
        pytest.skip("mpremote needed")
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import deploy
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_mpy.py"), "--quiet"], check=True, timeout=120)
    deploy.build_microdot()
    cmds = dry_run("--board", "esp32_captive", "--port", "/dev/null")
    assert ["cp", "build/mpy/microdot.mpy", ":lib/microdot.mpy"] in [c[3:] for c in cmds]
    assert all("microdot" not in " ".join(c) for c in dry_run("--board", "esp32_ap", "--port", "/dev/null"))
    dev = UnixBoard(tmp_path)
    try:
        for c in dry_run("--board", "esp32_captive", "--port", dev.port)[:-1]:     # all but the reset
            r = dev.mpremote(c[3:])
            assert r.returncode == 0, (c, r.stdout, r.stderr)
    finally:
        dev.close()
    assert (tmp_path / "lib" / "microdot.mpy").exists()
    env = dict(os.environ, MICROPYPATH=str(tmp_path / "lib") + ":.frozen")
    r = subprocess.run([MICROPYTHON, "-c", "import microdhcp.web, microdhcp.kit, microdot; print(microdot.__name__)"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "microdot", r.stdout + r.stderr
