# The captive-portal board examples (boards/esp32_captive, boards/rp2_pico_w_captive) run unmodified
# on the board simulator (host_tests/sim, used as test_boards.py uses it): bind-first on UDP 67 (the
# firmware's server loses its bind), UDP 53 held for DNS, and DHCP served inside the kit's asyncio
# loop. The web part cannot run there (the simulator models UDP only: microdot's TCP socket fails
# with EOPNOTSUPP); the loop reports it and DHCP goes on answering, which is the point shown.
# DNS queries go to UDP 53 of the AP, and one to the station side is left unanswered.
#
# Clock: the unix port's C asyncio queue stamps a task queued without a time with the real clock
# (extmod/modasyncio.c:70, mp_hal_ticks_ms, CLOCK_MONOTONIC), while the simulator's time module runs
# its own clock from "advance". So before each step the test moves the simulated clock up to the
# real one (sync_clock); the loop's wake-ups then fall where asyncio expects them.
import os
import shutil

import pytest

import dhcpkit as k
import dnskit as dk
from test_boards import Board, mpy_dir, tx, MICROPYTHON, ROOT, macstr  # noqa: F401  (mpy_dir: fixture)

pytestmark = pytest.mark.skipif(MICROPYTHON is None, reason="micropython (unix port) not installed")


@pytest.fixture
def lib(tmp_path, mpy_dir):  # noqa: F811  (the fixture imported above, by name)
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


_P = 1 << 30


def sync_clock(b, extra_ms=30):
    """Advance the simulated clock to the real monotonic clock (plus extra_ms); returns the lines."""
    import time
    sim = b.state()["ms"] & (_P - 1)
    real = int(time.monotonic() * 1000) & (_P - 1)
    d = (real - sim) % _P
    return b.cmd("advance %.3f" % (((d if d < _P // 2 else 0) + extra_ms) / 1000.0))


def _until_tx(b, first, limit=50):
    out = tx(b.cmd(first))
    n = 0
    while not out and n < limit:
        out = tx(sync_clock(b))
        n += 1
    return out


def _dns(b, name, client):
    """A DNS query for `name` from `client` (a.b.c.d) to the board's UDP 53; the parsed reply."""
    first = "rx ap %s 192.168.4.1 %s 53" % (bytes(dk.query(name)).hex(), client)
    lines = b.cmd(first)
    for _ in range(50):
        got = [ln.split() for ln in lines if ln.startswith("SIM tx app ap %s 40000 " % client)]
        if got:
            return dk.parse(bytes.fromhex(got[0][6]))
        lines = sync_clock(b)
    raise AssertionError("no DNS reply to %s: %r" % (name, [l for l in b.console if not l.startswith("SIM state")][-20:]))


def _dora(b, n, dst):
    prl = (55, bytes((1, 3, 6, 114)))                  # asks for DNS (6) and the portal URI (114)
    out = _until_tx(b, "rx ap %s" % bytes(k.msg(k.DISCOVER, n, (prl,))).hex())
    assert [(o, v, d, p, r["type"]) for o, v, d, p, r in out] == [("app", "ap", dst, 68, k.OFFER)], out
    offer = out[0][4]
    assert offer["options"][114] == b"http://192.168.4.1/api/captive"     # config.CAPTIVE_PORTAL
    assert offer["options"][6] == k.ip("192.168.4.1")
    req = k.msg(k.REQUEST, n, ((50, offer["yiaddr"]), (54, offer["options"][54])))
    out = _until_tx(b, "rx ap %s" % bytes(req).hex())
    assert [(o, d, r["type"]) for o, v, d, p, r in out] == [("app", dst, k.ACK)], out
    return out[0][4]


@pytest.mark.host_condition        # skips past 12.4 days of host uptime (below), even in CI
@pytest.mark.parametrize("board,flavour,dst", [("esp32_captive", "esp32", "255.255.255.255"),
                                               ("rp2_pico_w_captive", "pico_w", "255.255.255.255")])
def test_captive_board_serves_dhcp_in_the_loop_beside_dns_and_a_failed_web_part(tmp_path, lib, board, flavour, dst):
    import time
    if time.monotonic() * 1000 > _P - 600000:
        # Past 2**30 ms of host uptime the C queue's real ticks no longer wrap with the simulator's
        # (see the header): the test could not keep the two clocks in step.
        pytest.skip("host up for more than 12.4 days: the simulator's clock cannot follow asyncio's")
    d = tmp_path / "b"
    d.mkdir()
    # test_boards' path plus .frozen: asyncio is frozen into the unix port, as into board firmware.
    path = ":".join([os.path.join(ROOT, "host_tests", "sim"), lib, os.path.join(ROOT, "boards", board), ".frozen"])
    b = Board(d, board, flavour, {"MICROPYPATH": path}, "RUN_SECONDS = None\nDNS_HOSTS = [('printer', '192.168.4.20')]", lib)
    try:
        st = b.state()
        assert st["fw"] == "bind-failed" and st["port67"] == ["app"], st
        assert st["app_sockets"] == 2, st                  # DHCP on 67 and DNS on 53
        if flavour == "esp32":
            assert st["app_device"] == ["ap", "ap"], st    # both bound to the AP netif
        else:
            b.cmd("assoc " + macstr(3))                    # Pico W answers associated stations only
        assert any("kit serving 192.168.4.0/24: dns captive, http port 80" in l for l in b.console), b.console
        ack = _dora(b, 3, dst)
        assert any(l.startswith("DHCPACK(ap) %s" % k.ipstr(ack["yiaddr"])) for l in b.console), b.console
        # The DNS task of the same loop: config.DNS_HOSTS answers its address, any other name the portal.
        for name, want in (("printer", "192.168.4.20"), ("PRINTER", "192.168.4.20"), ("example.com", "192.168.4.1")):
            p = _dns(b, name, k.ipstr(ack["yiaddr"]))
            assert p["rcode"] == 0 and [a["data"] for a in p["answers"]] == [k.ip(want)], (name, p)
        # A query that reaches the station side (AP + STA, the STA up: its upstream network) is
        # not answered: DNS is bound to the AP's address (the Pico W has no SO_BINDTODEVICE).
        q = bytes(dk.query("example.com")).hex()
        lines = b.cmd("ifup sta", "rx sta %s 10.0.0.50 10.0.0.7 53" % q)
        for _ in range(5):
            lines += sync_clock(b)
        assert not [l for l in lines if l.startswith("SIM tx app sta")], lines
        assert any(l.startswith("SIM drop no-listener sta") for l in lines), lines
        # The loop checks its web task once a second: the failed start is reported, DHCP goes on.
        for _ in range(40):
            if any("HTTP server on port 80 stopped" in l for l in b.console):
                break
            sync_clock(b, 100)
        stopped = [l for l in b.console if "HTTP server on port 80 stopped" in l]
        assert stopped and "DHCP and DNS go on" in stopped[0] and "95" in stopped[0], b.console
        ren = k.msg(k.REQUEST, 3, (), ciaddr=ack["yiaddr"])
        out = _until_tx(b, "rx ap %s 192.168.4.1 %s" % (bytes(ren).hex(), k.ipstr(ack["yiaddr"])))
        assert [r["type"] for o, v, dd, p, r in out] == [k.ACK], out
        rest = b.quit()
        assert any(k.ipstr(ack["yiaddr"]) in l and "bound" in l for l in rest), rest   # lease table on exit
        # The only traceback: asyncio reporting the web task's end (the simulator's TCP socket).
        text = "\n".join(b.console + rest)
        assert text.count("Traceback") <= 1 and (text.count("Traceback") == 0 or "EOPNOTSUPP" in text), text
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
