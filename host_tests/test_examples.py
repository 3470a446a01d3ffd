# test_examples: every program in examples/ runs, on CPython and on the MicroPython unix port, and
# serves a real DISCOVER/REQUEST exchange over UDP on 127.0.0.1 (unprivileged ports, no lab):
# host_tests/example_driver.py gives each example the test's settings and socket.
import os
import shutil
import socket
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import dhcpkit as k     # noqa: E402

MICROPYTHON = shutil.which("micropython")
EXAMPLES = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py"))
RUNTIMES = ["python3", "micropython"]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def exchange(client, sport, mac_n, timeout=10):
    """DISCOVER, then REQUEST for the offered address; returns (OFFER, ACK) parsed."""
    def ask(data):
        client.sendto(data, ("127.0.0.1", sport))
        while True:
            b, _ = client.recvfrom(2048)
            r = k.parse(b, len(b))
            if r["xid"] == b"\x12\x34\x56\x78":
                return r
    client.settimeout(timeout)
    offer = ask(k.msg(k.DISCOVER, mac_n))
    ack = ask(k.msg(k.REQUEST, mac_n, ((50, offer["yiaddr"]), (54, k.ip("127.0.0.1")))))
    return offer, ack


def run_example(runtime, name, tmp_path, extra=(), mac_n=5):
    exe = sys.executable if runtime == "python3" else MICROPYTHON
    if exe is None:
        pytest.fail("micropython (unix port) not installed: tools/setup.sh installs it")
    sport, cport = free_port(), free_port()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", cport))
    p = subprocess.Popen([exe, os.path.join(HERE, "example_driver.py"), name, str(sport), str(cport), "2"] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(tmp_path))
    try:
        assert p.stdout.readline().strip() == "ready"
        offer, ack = exchange(client, sport, mac_n)
        p.wait(timeout=30)
        out = p.stdout.read()       # (communicate() would miss what readline() has buffered)
    finally:
        client.close()
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        p.stdout.close()
    assert p.returncode == 0, out
    assert offer["type"] == k.OFFER and ack["type"] == k.ACK and ack["yiaddr"] == offer["yiaddr"]
    return offer, ack, out


def test_every_example_is_tested():
    assert EXAMPLES == ["asyncio_tasks", "lease_events", "poll_loop", "reservations_file"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_poll_loop(runtime, tmp_path):
    _, _, out = run_example(runtime, "poll_loop", tmp_path)
    # the loop went on around the server: many turns, and the two replies were sent from it
    line = [l for l in out.splitlines() if l.startswith("loop ran")][0]
    assert int(line.split()[2]) > 5 and line.endswith("2 replies sent"), out


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_asyncio_tasks(runtime, tmp_path):
    _, _, out = run_example(runtime, "asyncio_tasks", tmp_path)
    line = [l for l in out.splitlines() if l.startswith("heartbeat ran")][0]
    assert int(line.split()[2]) >= 10 and line.endswith("2 replies sent"), out   # ~20 in 2 s


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_reservations_file(runtime, tmp_path):
    f = tmp_path / "reservations.txt"
    f.write_text("# the test's client\n\n02:00:00:00:00:05 127.0.0.17\nid:01:02:03 127.0.0.18\n")
    offer, ack, out = run_example(runtime, "reservations_file", tmp_path, [str(f)], mac_n=5)
    assert k.ipstr(ack["yiaddr"]) == "127.0.0.17"
    assert "2 reservations from" in out


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_reservations_file_bad_line_names_it(runtime, tmp_path):
    f = tmp_path / "reservations.txt"
    f.write_text("02:00:00:00:00:05 127.0.0.17 extra\n")
    exe = sys.executable if runtime == "python3" else MICROPYTHON
    r = subprocess.run([exe, os.path.join(HERE, "example_driver.py"), "reservations_file", str(free_port()),
                        str(free_port()), "1", str(f)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "line 1" in r.stdout + r.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_lease_events(runtime, tmp_path):
    offer, ack, out = run_example(runtime, "lease_events", tmp_path, mac_n=9)
    ip = k.ipstr(ack["yiaddr"])
    lines = [l for l in out.splitlines() if l.split()[:1] in (["offered"], ["bound"])]
    assert lines == ["offered %s 02:00:00:00:00:09" % ip, "bound %s 02:00:00:00:00:09" % ip], out
