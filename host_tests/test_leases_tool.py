# tools/leases (CPython only): table, dnsmasq/Kea exports checked by the real programs reading
# them (kea-lfc's lease-file parser; kea-dhcp4 and dnsmasq serving the exported leases to real
# clients in a namespace lab, when root), and reservation import.
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TOOL = os.path.join(REPO, "tools", "leases")
sys.path.insert(0, os.path.join(REPO, "tools"))

import harness as h          # noqa: E402  (host_tests/core, via conftest)
import dhcpkit as k          # noqa: E402
from microdhcp.config import Config  # noqa: E402
from microdhcp.store import LeaseStore  # noqa: E402

POOL = ("192.168.4.100", "192.168.4.150")


def run_tool(*args, check=True):
    cp = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=30)
    if check:
        assert cp.returncode == 0, cp.stderr
    return cp


@pytest.fixture
def leasefile(tmp_path):
    """A lease file from a real engine: clients 1-3 bound (3 with a client id and a hostname),
    client 4 released, client 5 declined. Returns (path, {client: address text})."""
    path = str(tmp_path / "leases.bin")
    e = h.engine(pool=POOL, lease_time=3600)
    st = LeaseStore(path, e)
    st.load(0)
    got = {}
    got[1] = h.dora(e, 1, 10)["yiaddr"]
    got[2] = h.dora(e, 2, 10, ((12, b"sensor-2"),))["yiaddr"]
    got[3] = h.dora(e, 3, 10, ((61, b"\xffcid-3"), (12, b"cam3")))["yiaddr"]
    got[4] = h.dora(e, 4, 10)["yiaddr"]
    h.release(e, 4, got[4], 20)
    got[5] = h.dora(e, 5, 10)["yiaddr"]
    h.decline(e, 5, got[5], 20)
    st.close()
    return path, {c: k.ipstr(a) for c, a in got.items()}


def test_table(leasefile):
    path, got = leasefile
    out = run_tool(path).stdout.splitlines()
    assert out[0].split() == ["address", "mac", "client-id", "hostname", "state", "left"]
    rows = {l.split()[0]: l.split() for l in out[1:]}
    assert rows[got[1]] == [got[1], "02:00:00:00:00:01", "-", "-", "bound", "3600"]
    assert rows[got[2]][3] == "sensor-2"
    assert rows[got[3]][2] == "ff:63:69:64:2d:33" and rows[got[3]][3] == "cam3"
    assert rows[got[4]][4] == "released" and rows[got[4]][5] == "-"
    assert rows[got[5]][4] == "declined" and rows[got[5]][5] == "600"


def test_table_lists_long_client_ids_whole(tmp_path):
    """Issue 11: the lease file keeps client ids whole (up to 64 bytes); the tool lists them
    whole (it used to cut them at 19 bytes), and a 16-byte chaddr by the 6 bytes kept."""
    path = str(tmp_path / "leases.bin")
    e = h.engine(pool=POOL, lease_time=3600)
    st = LeaseStore(path, e)
    st.load(0)
    cid = b"\xff" + bytes(range(1, 39))                       # 39 bytes
    x = k.ipstr(h.dora(e, 1, 10, ((61, cid),))["yiaddr"])
    long_hw = bytes(range(0x10, 0x20))
    o = h.send(e, k.msg(k.DISCOVER, 2, hlen=16, chaddr=long_hw), 10)
    y = k.ipstr(h.send(e, k.msg(k.REQUEST, 2, ((50, o["yiaddr"]), (54, h.SERVER)), hlen=16, chaddr=long_hw), 10)["yiaddr"])
    st.close()
    rows = {l.split()[0]: l.split() for l in run_tool(path).stdout.splitlines()[1:]}
    assert rows[x][2] == ":".join("%02x" % b for b in cid)
    assert rows[y][1] == "10:11:12:13:14:15" and rows[y][4] == "bound"


def test_damaged_file_still_lists(leasefile):
    path, got = leasefile
    data = bytearray(open(path, "rb").read())
    data[16 + 68 + 5] ^= 0x10            # second record damaged
    open(path, "wb").write(bytes(data[:-7]))   # and a torn tail
    cp = run_tool(path)
    assert "damaged" in cp.stderr
    assert len(cp.stdout.splitlines()) >= 3


def test_dnsmasq_format(leasefile):
    path, got = leasefile
    lines = run_tool(path, "--format", "dnsmasq", "--now", "1700000000").stdout.splitlines()
    assert sorted(lines) == sorted([
        "1700003600 02:00:00:00:00:01 %s * *" % got[1],
        "1700003600 02:00:00:00:00:02 %s sensor-2 *" % got[2],
        "1700003600 02:00:00:00:00:03 %s cam3 ff:63:69:64:2d:33" % got[3]])


def test_kea_format_header(leasefile):
    path, got = leasefile
    text = run_tool(path, "--format", "kea", "--now", "1700000000").stdout
    rows = list(csv.reader(io.StringIO(text)))
    # Kea 2.2 memfile lease4 schema (the columns libkea-dhcpsrv's CSVLease4File expects).
    assert rows[0] == ["address", "hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id",
                       "fqdn_fwd", "fqdn_rev", "hostname", "state", "user_context"]
    by = {r[0]: r for r in rows[1:]}
    assert by[got[1]][1:6] == ["02:00:00:00:00:01", "", "3600", "1700003600", "1"]
    assert by[got[3]][2] == "ff:63:69:64:2d:33" and by[got[3]][8] == "cam3"
    assert by[got[5]][9] == "1" and by[got[5]][1] == ""      # declined
    assert got[4] not in by                                  # released: not a lease


def _kea_env(tmp):
    env = dict(os.environ)
    env["KEA_LOCKFILE_DIR"] = str(tmp)
    env["KEA_PIDFILE_DIR"] = str(tmp)
    env["KEA_LOGGER_DESTINATION"] = str(tmp / "kea.log")
    return env


@pytest.mark.skipif(shutil.which("kea-lfc") is None, reason="kea-lfc (kea-dhcp4-server) not installed")
def test_kea_lfc_reads_export(leasefile, tmp_path):
    # kea-lfc loads a lease file with Kea's own CSV parser (CSVLease4File) and writes back every
    # lease it accepted; a wrong header or a bad row makes it fail or drop the row.
    path, got = leasefile
    inp = tmp_path / "kea-leases4.csv.2"
    exported = run_tool(path, "--format", "kea").stdout
    inp.write_text(exported)
    (tmp_path / "kea.json").write_text("{}")
    prev, out, fin = tmp_path / "prev.csv", tmp_path / "out.csv", tmp_path / "fin.csv"
    cp = subprocess.run(["kea-lfc", "-4", "-x", str(prev), "-i", str(inp), "-o", str(out), "-f", str(fin),
                         "-p", str(tmp_path / "lfc.pid"), "-c", str(tmp_path / "kea.json")],
                        capture_output=True, text=True, timeout=30, env=_kea_env(tmp_path))
    assert cp.returncode == 0, cp.stdout + cp.stderr
    rows = list(csv.reader(io.StringIO(prev.read_text())))
    assert rows[0][0] == "address"
    assert sorted(r[0] for r in rows[1:]) == sorted([got[1], got[2], got[3], got[5]])
    # The check is real: a header from another schema is refused.
    bad = tmp_path / "bad.csv"
    bad.write_text(exported.replace("address,hwaddr", "addr,hwaddr", 1))
    cp = subprocess.run(["kea-lfc", "-4", "-x", str(tmp_path / "p2"), "-i", str(bad), "-o", str(tmp_path / "o2"),
                         "-f", str(tmp_path / "f2"), "-p", str(tmp_path / "lfc2.pid"), "-c", str(tmp_path / "kea.json")],
                        capture_output=True, text=True, timeout=30, env=_kea_env(tmp_path))
    p2 = tmp_path / "p2"
    assert cp.returncode != 0 or not p2.exists() or got[1] not in p2.read_text()


# --- the peers serving the exported leases to real clients (namespace lab, root) ------------
def _lab_or_skip(server):
    # The lab (root, ip, ethtool, busybox's udhcpc) and the peer server being checked.
    import lab as labmod
    problems = labmod.missing_prerequisites(("ip", "ethtool", "busybox", server))
    if problems:
        pytest.skip("; ".join(problems))
    return labmod


def _add_clients(lab):
    # Lab clients n = 1..4 have MAC 02:00:00:00:00:0n, the same as the engine's clients 1..4.
    cs = [lab.add_client() for n in (1, 2, 3, 4)]
    for n, c in enumerate(cs, 1):
        assert c.mac == "02:00:00:00:00:%02x" % n
    return cs


def _check_clients(lab, cs, got):
    # Clients 1 and 2 get their exported addresses back (found by MAC); client 4, whose lease
    # was released, and client 3 (exported under its client id, which udhcpc does not send)
    # get addresses that no exported lease holds.
    res = [lab.udhcpc(c, timeout=20) for c in cs]
    assert res[0].ip == got[1], res[0].output
    assert res[1].ip == got[2], res[1].output
    for r in res[2:]:
        assert r.ok and r.ip not in (got[1], got[2], got[3], got[5]), r.output
    return res


def test_dnsmasq_serves_exported_leases(leasefile):
    labmod = _lab_or_skip("dnsmasq")
    path, got = leasefile
    with labmod.Lab(tag="x") as lab:
        exported = run_tool(path, "--format", "dnsmasq").stdout
        (lab.tmp / "dnsmasq.leases").write_text(exported)
        cs = _add_clients(lab)
        d = lab.start_dnsmasq(first=POOL[0], last="192.168.4.200", lease="1h")
        assert d.wait_for(r"DHCP, IP range", 10), d.output()
        _check_clients(lab, cs, got)
        # dnsmasq rewrote its lease file after the new bindings: the exported leases are kept.
        text = (lab.tmp / "dnsmasq.leases").read_text()
        for line in exported.splitlines():
            f = line.split()
            assert any(l.split()[1:4] == f[1:4] for l in text.splitlines()), (line, text)
        d.stop(signal.SIGTERM)


def test_kea_serves_exported_leases(leasefile):
    labmod = _lab_or_skip("kea-dhcp4")
    path, got = leasefile
    with labmod.Lab(tag="y") as lab:
        csvf = lab.tmp / "kea-leases4.csv"
        csvf.write_text(run_tool(path, "--format", "kea").stdout)
        conf = {"Dhcp4": {
            "interfaces-config": {"interfaces": [lab.bridge], "dhcp-socket-type": "raw"},
            "lease-database": {"type": "memfile", "name": str(csvf), "persist": True, "lfc-interval": 0},
            "valid-lifetime": 3600,
            "subnet4": [{"id": 1, "subnet": "192.168.4.0/24",
                         "pools": [{"pool": "%s - 192.168.4.200" % POOL[0]}]}],
            "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}],
                         "severity": "DEBUG", "debuglevel": 50}]}}
        cfg = lab.tmp / "kea.json"
        cfg.write_text(json.dumps(conf))
        env = _kea_env(lab.tmp)
        env.pop("KEA_LOGGER_DESTINATION")
        cs = _add_clients(lab)     # first: a bridge without ports is down and Kea skips it
        kea = lab.spawn(lab.server_ns, ["kea-dhcp4", "-c", str(cfg)], env=env)
        assert kea.wait_for(r"DHCP4_STARTED", 15), kea.output()
        log = kea.output()
        assert "DHCPSRV_MEMFILE_LEASE_FILE_LOAD" in log, log
        assert "DHCPSRV_MEMFILE_LEASE_LOAD_ROW_ERROR" not in log, log
        assert "DHCPSRV_OPEN_SOCKET_FAIL" not in log, log
        _check_clients(lab, cs, got)
        kea.stop(signal.SIGTERM)


# --- reservations in ------------------------------------------------------------------------
DNSMASQ_CONF = """# from an old router
dhcp-range=192.168.4.100,192.168.4.200,12h
dhcp-host=02:00:00:00:00:0A,192.168.4.20,printer
dhcp-host=02-00-00-00-00-0b,192.168.4.21
dhcp-host=aa:bb:cc:dd:ee:ff,set:known,192.168.4.22,nas,infinite
dhcp-host=broken-line
"""


def test_import_dnsmasq_and_csv(tmp_path):
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(DNSMASQ_CONF)
    rows = tmp_path / "hosts.csv"
    rows.write_text("mac,ip,name\n02:00:00:00:00:0c,192.168.4.23,tv\n02:00:00:00:00:0d,192.168.4.24\n")
    cp = run_tool("--import-dnsmasq", str(conf), "--import-csv", str(rows))
    assert "broken-line" in cp.stderr
    ns = {}
    exec(cp.stdout, ns)
    res = ns["RESERVATIONS"]
    assert res == [("02:00:00:00:00:0a", "192.168.4.20"), ("02:00:00:00:00:0b", "192.168.4.21"),
                   ("aa:bb:cc:dd:ee:ff", "192.168.4.22"), ("02:00:00:00:00:0c", "192.168.4.23"),
                   ("02:00:00:00:00:0d", "192.168.4.24")]
    assert "# printer" in cp.stdout and "# nas" in cp.stdout
    Config("192.168.4.1/24", pool=POOL, reservations=res)   # the server accepts them
    # Into a board config: the RESERVATIONS block is replaced, everything else kept.
    board = tmp_path / "config.py"
    shutil.copy(os.path.join(REPO, "boards", "esp32_ap", "config.py"), board)
    before = board.read_text()
    run_tool("--import-csv", str(rows), "--config", str(board))
    after = board.read_text()
    ns = {}
    exec(after, ns)
    assert ns["RESERVATIONS"] == [("02:00:00:00:00:0c", "192.168.4.23"), ("02:00:00:00:00:0d", "192.168.4.24")]
    keep = [l for l in before.splitlines() if l and not l.startswith(" ") and "RESERVATIONS" not in l and l != "]"]
    for l in keep:
        assert l in after


def test_port_dry_run_and_board_snippet(leasefile, tmp_path):
    path, got = leasefile
    cp = run_tool("--port", "/dev/ttyUSB0", "--dry-run")
    assert cp.stdout.startswith("mpremote connect /dev/ttyUSB0 exec ") and cp.stdout.strip().endswith("reset")
    # No board here: run the snippet on the MicroPython unix port with a config.py naming the
    # lease file, and decode its output as the tool does after mpremote.
    mp = shutil.which("micropython")
    if mp is None:
        pytest.skip("micropython not installed")
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("leases_tool", TOOL)
    spec = importlib.util.spec_from_loader("leases_tool", loader)
    tool = importlib.util.module_from_spec(spec)
    loader.exec_module(tool)
    (tmp_path / "config.py").write_text("LEASE_FILE = %r\n" % path)
    env = dict(os.environ, MICROPYPATH="%s:%s" % (tmp_path, os.path.join(REPO, "firmware")))
    out = subprocess.run([mp, "-c", tool.BOARD_SNIPPET], capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode == 0, out.stderr
    rows = {l.address: l for l in tool.leases_from_dump(out.stdout)}
    assert set(k.ipstr(a) for a in rows) == set(got.values())
