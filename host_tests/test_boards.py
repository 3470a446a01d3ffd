# test_boards: each boards/<board>/main.py runs unmodified under the MicroPython unix port against
# the board simulator (host_tests/sim, protocol in sim/_sim.py) and serves simulated clients.
# Every run is a `micropython -m main` subprocess with a bounded timeout.
#
# The package is loaded as .mpy (tools/build_mpy.py into a temporary directory), as `make deploy`
# puts it on a board: the unix port's own compiler folds `errno.EADDRINUSE` to the host's value (98)
# when it compiles a .py, whereas mpy-cross output looks errno up at run time, where the simulator's
# errno module has the board's value (112).
import json
import os
import queue
import shutil
import subprocess
import threading

import sys

import pytest

import dhcpkit as k

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MICROPYTHON = shutil.which("micropython")
TIMEOUT = 20     # seconds for any one exchange with the board

pytestmark = pytest.mark.skipif(MICROPYTHON is None, reason="micropython (unix port) not installed")


@pytest.fixture(scope="session")
def mpy_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("mpy"))
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_mpy.py"), "--out", d, "--quiet"],
                   check=True, timeout=120)
    return d


class Board:
    """A board's main.py on the simulator; cmd() injects and returns what the board printed."""

    def __init__(self, tmp_path, board, flavour, env=None, overrides="", lib=None):
        # config.py in the working directory shadows the board's: its settings, plus test overrides
        # (lease file in tmp, never the host's /leases.bin).
        cfg = os.path.join(ROOT, "boards", board, "config.py")
        with open(os.path.join(str(tmp_path), "config.py"), "w") as f:
            f.write("exec(open(%r).read())\nLEASE_FILE = None\n%s\n" % (cfg, overrides))
        e = dict(os.environ)
        e["MICROPYPATH"] = ":".join([os.path.join(HERE, "sim"), lib or os.path.join(ROOT, "firmware"),
                                     os.path.join(ROOT, "boards", board)])
        e["MICRODHCP_SIM_BOARD"] = flavour
        e.update(env or {})
        self.p = subprocess.Popen([MICROPYTHON, "-m", "main"], cwd=str(tmp_path), env=e, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.q = queue.Queue()
        self.console = []
        threading.Thread(target=self._reader, daemon=True).start()
        self.boot = self._until_ready()

    def _reader(self):
        for line in self.p.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def _until_ready(self):
        got = []
        while True:
            try:
                line = self.q.get(timeout=TIMEOUT)
            except queue.Empty:
                self.p.kill()
                raise AssertionError("board did not reach the simulator within %ds; output:\n%s"
                                     % (TIMEOUT, "\n".join(self.console + got)))
            if line is None:
                self.console += got
                raise AssertionError("board exited early:\n%s" % "\n".join(self.console))
            if line == "SIM ready":
                self.console += got
                return got
            got.append(line)

    def cmd(self, *lines):
        self.p.stdin.write("".join(l + "\n" for l in lines) + "go\n")
        self.p.stdin.flush()
        return self._until_ready()

    def state(self):
        for line in self.cmd("state"):
            if line.startswith("SIM state "):
                return json.loads(line[10:])
        raise AssertionError("no state")

    def quit(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        rest = []
        while True:
            try:
                line = self.q.get(timeout=TIMEOUT)
            except queue.Empty:
                break
            if line is None:
                break
            rest.append(line)
        self.p.wait(timeout=TIMEOUT)
        self.console += rest
        return rest

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=TIMEOUT)


@pytest.fixture
def boards(tmp_path, mpy_dir):
    made = []

    def make(board, flavour, env=None, overrides=""):
        d = tmp_path / ("b%d" % len(made))
        d.mkdir()
        b = Board(d, board, flavour, env, overrides, mpy_dir)
        made.append(b)
        return b
    yield make
    for b in made:
        b.close()


def tx(lines):
    """SIM tx lines -> [(owner, kind, dst, port, parsed reply)]."""
    r = []
    for line in lines:
        if line.startswith("SIM tx "):
            owner, kind, dst, port, hexdata = line.split()[2:7]
            r.append((owner, kind, dst, int(port), k.parse(bytes.fromhex(hexdata))))
    return r


def macstr(n):
    return k.mac(n).hex()



def dora(b, kind, n, expect_dst):
    """DISCOVER then REQUEST for client n through the simulated netif `kind`; returns the ACK."""
    out = tx(b.cmd("rx %s %s" % (kind, bytes(k.msg(k.DISCOVER, n)).hex())))
    assert len(out) == 1, out
    owner, via, dst, port, offer = out[0]
    assert (owner, via, dst, port) == ("app", kind, expect_dst, 68)
    assert offer["type"] == k.OFFER and offer["chaddr"][:6] == k.mac(n)
    server = offer["options"][54]
    req = k.msg(k.REQUEST, n, ((50, offer["yiaddr"]), (54, server)))
    out = tx(b.cmd("rx %s %s" % (kind, bytes(req).hex())))
    assert len(out) == 1, out
    owner, via, dst, port, ack = out[0]
    assert (owner, via, dst, port) == ("app", kind, expect_dst, 68)
    assert ack["type"] == k.ACK and ack["yiaddr"] == offer["yiaddr"]
    return ack


# --- the bind-first path ---------------------------------------------------------------------
def test_esp32_ap_binds_first_and_serves(boards):
    b = boards("esp32_ap", "esp32")
    st = b.state()
    assert st["fw"] == "bind-failed", st          # the ESP-IDF server started after our bind and lost
    assert st["port67"] == ["app"] and st["app_device"] == ["ap"], st   # SO_BINDTODEVICE to the AP
    ack = dora(b, "ap", 1, "255.255.255.255")
    assert k.ipstr(ack["yiaddr"]).startswith("192.168.4.")
    assert any(l.startswith("DHCPACK(ap) %s 02:00:00:00:00:01" % k.ipstr(ack["yiaddr"])) for l in b.console)
    # RENEWING (RFC 2131 4.3.2: ciaddr, unicast to the server): answered unicast on the AP.
    ren = k.msg(k.REQUEST, 1, (), ciaddr=ack["yiaddr"])
    out = tx(b.cmd("rx ap %s 192.168.4.1 %s" % (bytes(ren).hex(), k.ipstr(ack["yiaddr"]))))
    assert [(o, v, d, p, r["type"]) for o, v, d, p, r in out] == [("app", "ap", k.ipstr(ack["yiaddr"]), 68, k.ACK)]
    assert b.state()["fw"] == "bind-failed"
    rest = b.quit()
    assert any(k.ipstr(ack["yiaddr"]) in l and "bound" in l for l in rest), rest   # lease table on exit


def test_pico_w_binds_first_and_replies_leave_on_the_ap_side(boards):
    # STA connected upstream: cyw43 makes it the default netif, so 255.255.255.255 would leave there.
    b = boards("rp2_pico_w", "pico_w", {"MICRODHCP_SIM_STA": "up"})
    st = b.state()
    assert st["fw"] == "bind-failed" and st["port67"] == ["app"], st
    assert st["default_netif"] == "sta" and st["app_device"] == [None], st
    b.cmd("assoc " + macstr(7))
    ack = dora(b, "ap", 7, "192.168.4.255")    # the subnet broadcast, routed out of the AP
    assert ack["options"][1] == k.ip("255.255.255.0")


def test_pico_w_with_limited_broadcast_would_reply_on_sta(boards):
    # The pitfall itself, shown by the simulator: REPLY_BROADCAST 255.255.255.255 leaves on STA.
    b = boards("rp2_pico_w", "pico_w", {"MICRODHCP_SIM_STA": "up"}, 'REPLY_BROADCAST = "255.255.255.255"')
    b.cmd("assoc " + macstr(8))
    out = tx(b.cmd("rx ap %s" % bytes(k.msg(k.DISCOVER, 8)).hex()))
    assert [(o, v, d) for o, v, d, p, r in out] == [("app", "sta", "255.255.255.255")]


def test_pico_w_ignores_a_station_that_is_not_associated(boards):
    b = boards("rp2_pico_w", "pico_w")
    assert tx(b.cmd("rx ap %s" % bytes(k.msg(k.DISCOVER, 9)).hex())) == []
    # It joins; the cached list is re-read on a miss, at most once a second.
    b.cmd("assoc " + macstr(9))
    assert tx(b.cmd("rx ap %s" % bytes(k.msg(k.DISCOVER, 9)).hex())) == []   # same second: cache
    b.cmd("advance 1.5")
    out = tx(b.cmd("rx ap %s" % bytes(k.msg(k.DISCOVER, 9)).hex()))
    assert len(out) == 1 and out[0][4]["type"] == k.OFFER


def test_sta_side_broadcast_is_ignored_on_esp32(boards):
    b = boards("esp32_ap", "esp32", {"MICRODHCP_SIM_STA": "up"})
    lines = b.cmd("rx sta %s" % bytes(k.msg(k.DISCOVER, 3)).hex())
    assert tx(lines) == [] and "SIM drop no-listener sta" in lines   # SO_BINDTODEVICE: never delivered
    dora(b, "ap", 3, "255.255.255.255")                               # the AP side is served


def test_sta_side_broadcast_is_ignored_on_pico_w(boards):
    b = boards("rp2_pico_w", "pico_w", {"MICRODHCP_SIM_STA": "up"})
    b.cmd("assoc " + macstr(4))
    lines = b.cmd("rx sta %s" % bytes(k.msg(k.DISCOVER, 5)).hex())   # heard (socket on ANY) ...
    assert tx(lines) == []                                           # ... but not a station: ignored
    dora(b, "ap", 4, "192.168.4.255")


# --- EADDRINUSE and the fallback -------------------------------------------------------------
@pytest.mark.parametrize("board,flavour", [("esp32_ap", "esp32"), ("rp2_pico_w", "pico_w")])
def test_port_in_use_prints_why_and_keeps_the_firmware_server(boards, board, flavour):
    b = boards(board, flavour, {"MICRODHCP_SIM_HOLD67": "firmware"})
    text = "\n".join(b.console)
    assert "UDP port 67 is already in use" in text and "NOT SERVING" in text and "fallback" in text, text
    st = b.state()
    assert st["port67"] == ["fw-dhcp"] and st["app_sockets"] == 0 and st["ap_up"], st
    out = tx(b.cmd("assoc " + macstr(2), "rx ap %s" % bytes(k.msg(k.DISCOVER, 2)).hex()))
    assert [(o, r["type"]) for o, v, d, p, r in out] == [("fw", k.OFFER)]   # the firmware's server answers
    b.cmd("advance 1")
    assert b.state()["led_changes"] >= 1        # the LED blinks
    b.quit()
    assert b.p.returncode == 0


def test_port_held_by_another_socket(boards):
    b = boards("esp32_ap", "esp32", {"MICRODHCP_SIM_HOLD67": "other"})
    assert "UDP port 67 is already in use" in "\n".join(b.console)
    assert tx(b.cmd("rx ap %s" % bytes(k.msg(k.DISCOVER, 2)).hex())) == []


def test_pico_w_out_of_udp_pcbs_falls_back(boards):
    # STA up takes 2 pcbs (DHCP client, mDNS), the AP's server 1 more: a pool of 2 leaves none.
    b = boards("rp2_pico_w", "pico_w", {"MICRODHCP_SIM_STA": "up", "MICRODHCP_SIM_PCBS": "2"})
    text = "\n".join(b.console)
    assert "cannot open UDP port 67" in text and "NOT SERVING" in text, text


# --- lwIP socket behaviours ------------------------------------------------------------------
def test_only_four_datagrams_are_queued(boards):
    b = boards("esp32_ap", "esp32")
    lines = b.cmd(*["rx ap %s" % bytes(k.msg(k.DISCOVER, n, xid=bytes((1, 2, 3, n)))).hex() for n in range(20, 26)])
    assert lines.count("SIM drop queue-full ap") == 2
    assert len(tx(lines)) == 4
    assert b.state()["drops"]["queue-full"] == 2


def test_zero_length_datagram_is_skipped(boards):
    b = boards("esp32_ap", "esp32")
    out = tx(b.cmd("rx0 ap", "rx ap %s" % bytes(k.msg(k.DISCOVER, 30)).hex()))
    assert len(out) == 1 and out[0][4]["type"] == k.OFFER


def test_socket_closed_by_the_stack_is_recreated(boards):
    b = boards("esp32_ap", "esp32", {"MICRODHCP_SIM_STA": "up"})
    lines = b.cmd("kill")
    lines += b.cmd()
    assert any("recreating" in l for l in lines), lines
    st = b.state()
    assert st["app_sockets"] == 1 and st["port67"] == ["app"] and st["app_device"] == ["ap"], st
    dora(b, "ap", 31, "255.255.255.255")


def test_esp32_ap_other_address_survives_the_dhcps_restart(boards):
    # ESP32 ifconfig() on the AP restarts the ESP-IDF server (a new bind): it must lose again.
    b = boards("esp32_ap", "esp32", overrides='ADDRESS = "10.9.8.1/24"\nPOOL = ("10.9.8.10", "10.9.8.20")\n'
                                             'ROUTERS = ["10.9.8.1"]\nDNS = ["10.9.8.1"]')
    st = b.state()
    assert st["ap_ip"] == "10.9.8.1" and st["fw"] == "bind-failed" and st["port67"] == ["app"], st
    ack = dora(b, "ap", 40, "255.255.255.255")
    assert k.ipstr(ack["yiaddr"]).startswith("10.9.8.")


# --- wired boards ----------------------------------------------------------------------------
@pytest.mark.parametrize("pinset", ["wt32-eth01", "olimex-esp32-poe"])
def test_esp32_lan_serves(boards, pinset):
    b = boards("esp32_lan", "esp32", overrides="BOARD = %r" % pinset)
    st = b.state()
    assert st["port67"] == ["app"] and st["app_device"] == ["eth"] and st["fw"] == "off", st
    ack = dora(b, "eth", 50, "255.255.255.255")
    assert k.ipstr(ack["yiaddr"]).startswith("192.168.50.")


def test_w5500_evb_pico_serves(boards):
    b = boards("w5500_evb_pico", "w5500")
    st = b.state()
    assert st["port67"] == ["app"] and st["fw"] == "off", st
    dora(b, "eth", 60, "192.168.50.255")


def test_lease_file_is_used_when_configured(boards, tmp_path):
    path = str(tmp_path / "leases.bin")
    b = boards("esp32_ap", "esp32", overrides="LEASE_FILE = %r" % path)
    dora(b, "ap", 70, "255.255.255.255")
    b.quit()
    assert os.path.exists(path) and os.path.getsize(path) > 0
