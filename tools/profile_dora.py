#!/usr/bin/env python3
"""profile_dora: where the instructions of one DORA go on the MicroPython unix port (callgrind).

    sudo python3 tools/profile_dora.py [--clients N] [--reps K] [--top T] [--keep DIR] [--modes a,b]

callgrind counts the instructions of the interpreter's C functions (mp_execute_bytecode,
mp_map_lookup, gc_collect, ...), not of our Python functions. So every figure here is a
difference of two runs: a driver (this file, run by `micropython ... --drive MODE COUNT`) does
one piece of the server's work COUNT times after a fixed set-up, and the cost per piece is
(instructions with COUNT - instructions with 0) / COUNT: start-up, imports and set-up cancel out.

Modes (one DORA = a new client's DISCOVER, OFFER, REQUEST, ACK, as perfdhcp sends them: a relay at
192.168.4.250 (giaddr, hops 1), options 53 and 55, the REQUEST with 50 and 54; pool of 248
addresses, N new clients into an empty table, as tools/bench.py's ladder does):
  harness   the driver's own work per DORA (patching xid and chaddr, reading yiaddr): subtracted
  engine    + Engine.handle() of both requests (each parsed where it lies, as net.py hands it over)
  log       + the host command's default event lines (OFFER and ACK, microdhcp.__main__'s logger,
            written to a file once per message, as under lock-step load)
  line      + status.event_line() formatted and written per event (the per-field formatter, used
            for the rare events; until this change it wrote every OFFER and ACK line)
  client    the client side alone: two sendto() and two recv() on a socket sending to itself
  loop      the whole server: Server.poll() (what serve_forever runs) on a real UDP socket, the
            driver as the relay sending each request and reading each reply (--quiet)
  loop-log  the same with the default event lines
  loop-line the same with status.event_line per event (the old default)
  phases    engine steps one at a time, REPS calls each on a half-full table (tools/rp2emu/phases.py's
            steps): parse, identify and hash, take a slot, reply building, clearing, ...
The socket modes plug the heap's start-up holes first, as the host command does before serving
(microdhcp.__main__._plug_heap); the engine modes do not (see drive()).
The socket modes run in a private network namespace (`unshare -n`, gone when the run ends) with
192.168.4.1 and .250 on its loopback interface; they need root. Kernel time (syscalls) is not counted by
callgrind: these are user-space instructions.
Prints a table per DORA and the C functions that take the most of one DORA in the loop modes.
"""
import sys

_MP = sys.implementation.name == "micropython"
N_POOL = 248

# --------------------------------------------------------------------------- driver (MicroPython)


def _msg(mtype):
    # A perfdhcp-like request from a relay: op 1, htype 1, hlen 6, hops 1, giaddr .250;
    # options 53, 55 (1, 28, 2, 3, 15, 6, 12) and for a REQUEST 50 (patched) and 54.
    b = bytearray(300)
    b[0] = 1
    b[1] = 1
    b[2] = 6
    b[3] = 1
    b[24] = 192
    b[25] = 168
    b[26] = 4
    b[27] = 250
    b[28] = 2
    b[236:240] = b"\x63\x82\x53\x63"
    opts = [53, 1, mtype, 55, 7, 1, 28, 2, 3, 15, 6, 12]
    if mtype == 3:
        opts += [50, 4, 0, 0, 0, 0, 54, 4, 192, 168, 4, 1]
    p = 240
    for v in opts:
        b[p] = v
        p += 1
    b[p] = 255
    return b


_O50 = 240 + 12 + 2    # the option 50 value in a REQUEST from _msg


def _patch(b, i):
    # xid and chaddr from the client number (no allocation)
    b[4] = 0x5a
    b[6] = i >> 8
    b[7] = i & 255
    b[32] = i >> 8
    b[33] = i & 255


def _engine(clients=0):
    from microdhcp.config import Config
    from microdhcp.engine import Engine
    eng = Engine(Config(address="192.168.4.1/24", pool="192.168.4.2-192.168.4.249", lease_time=3600,
                        routers="192.168.4.1", dns="192.168.4.1"))
    tx = getattr(eng, "tx", None) or bytearray(1500)
    d = _msg(1)
    r = _msg(3)
    for i in range(clients):
        _patch(d, 1000 + i)
        eng.handle(d, 1000, tx)
        _patch(r, 1000 + i)
        r[_O50:_O50 + 4] = tx[16:20]
        eng.handle(r, 1000, tx)
    return eng, tx, d, r


def _null_file():
    # the event lines' destination in the logging modes: stdout (the orchestrator sends it to a file)
    return sys.stdout


def drive(mode, count):
    import gc
    # Every mode loads what the host command loads (its module, status), quiet or not: the
    # heap's layout, and with it the cost of each allocation (gc_alloc's first-fit search, see
    # docs/performance.md), then differs only by what the mode itself does.
    import microdhcp.__main__  # noqa: F401
    import microdhcp.status  # noqa: F401
    eng, tx, d, r = _engine()
    n = len(d)
    now = 1000
    handle = eng.handle
    if mode in ("log", "loop-log"):
        from microdhcp.__main__ import event_log
        from microdhcp.clock import Clock
        ev = event_log(eng, "br0", Clock(), _null_file())
        eng.on_event = ev.event
        flush = ev.flush
    elif mode in ("line", "loop-line"):
        from microdhcp import status
        from microdhcp.clock import Clock
        clock = Clock()
        out = sys.stdout

        def on_event(kind, slot):
            out.write(status.event_line(eng, kind, slot, "br0", clock.now()) + "\n")
        eng.on_event = on_event
        flush = None
    else:
        flush = None
    gc.collect()
    if mode in NET_MODES:
        # As the host command does last before serving (microdhcp.__main__._plug_heap): fill the
        # holes start-up left, so that each datagram's allocations search from above the live
        # heap. Socket modes only: the server plugs, and each received datagram then makes a
        # one-block object that moves the allocator's search index past the plugs after a
        # collection. The engine modes run handle() unlocked with no such object, so their big
        # frames would search the plugged heap from block 0 each time: not the server's case.
        microdhcp.__main__._plug_heap()
    if mode == "harness":
        for i in range(count):
            _patch(d, i)
            _patch(r, i)
            for k in range(4):
                r[_O50 + k] = tx[16 + k]
    elif mode in ("engine", "log", "line"):
        for i in range(count):
            _patch(d, i)
            handle(d, now, tx, n)
            if flush is not None:
                flush()
            _patch(r, i)
            for k in range(4):
                r[_O50 + k] = tx[16 + k]
            handle(r, now, tx, n)
            if flush is not None:
                flush()
    elif mode in ("client", "loop", "loop-log", "loop-line"):
        _sockets(mode, count, eng, d, r, flush)
    else:
        raise SystemExit("unknown mode " + mode)
    if mode in ("engine", "log", "line", "loop", "loop-log", "loop-line") and count:
        c = eng.counters
        from microdhcp.status import COUNTER_NAMES
        acks = c[COUNTER_NAMES.index("ack")]
        if acks != count:
            raise SystemExit("expected %d ACKs, got %d (%r)" % (count, acks, list(c)))


def _sockets(mode, count, eng, d, r, flush):
    import socket
    from microdhcp.net import Server
    from microdhcp.clock import Clock
    relay = ("192.168.4.250", 67)
    cl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cl.bind(socket.getaddrinfo(relay[0], relay[1])[0][-1])
    if mode == "client":
        to = socket.getaddrinfo(relay[0], relay[1])[0][-1]
        for i in range(count):
            _patch(d, i)
            cl.sendto(d, to)
            m = cl.recv(1500)
            _patch(r, i)
            for k in range(4):
                r[_O50 + k] = m[16 + k]
            cl.sendto(r, to)
            cl.recv(1500)
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(socket.getaddrinfo("192.168.4.1", 67)[0][-1])
    srv = Server(eng, clock=Clock(), sock=s)
    if flush is not None and hasattr(srv, "idle"):
        srv.idle = flush
        srv.events_locked = True    # as the host command serves HostEventLog (microdhcp.__main__)
    to = socket.getaddrinfo("192.168.4.1", 67)[0][-1]
    poll = srv.poll
    for i in range(count):
        _patch(d, i)
        cl.sendto(d, to)
        poll(1000, 32)
        m = cl.recv(1500)
        _patch(r, i)
        for k in range(4):
            r[_O50 + k] = m[16 + k]
        cl.sendto(r, to)
        poll(1000, 32)
        cl.recv(1500)
    if flush is not None:
        flush()


PHASES = ("empty", "parse-d", "identify-d", "take", "reply-offer", "clear", "params",
          "parse-r", "identify-r", "off-at", "reply-ack", "set-timer", "clock")


def drive_phase(name, reps):
    from microdhcp.codes import DHCPOFFER, DHCPACK
    eng, tx, d, r = _engine(120)
    req = eng.req
    n = len(d)
    now = 1000
    new = 5000
    _patch(d, new)
    req.parse(n, d)
    eng.rx = d          # what handle() sets: the message the helpers read
    if name == "empty":
        for _ in range(reps):
            pass
    elif name == "parse-d":
        for _ in range(reps):
            req.parse(n, d)
    elif name == "identify-d":
        for _ in range(reps):
            eng._identify()
    elif name in ("take", "reply-offer", "clear", "params"):
        eng._identify()
        s = eng.table.first_free()
        if name == "take":
            for _ in range(reps):
                eng._take(s, -1)
        elif name == "reply-offer":
            eng._take(s, -1)
            eng.lease = 3600
            for _ in range(reps):
                eng._reply(tx, DHCPOFFER, s, 0)
        elif name == "clear":
            # what _reply does after a 300-byte reply: one zero-filling pack_into of 320 bytes
            import struct
            pk = struct.pack_into
            for _ in range(reps):
                pk("320s", tx, 0, b"")
        else:
            for _ in range(reps):
                eng._put_params(tx, 250, 548)
    elif name == "clock":
        from microdhcp.clock import Clock
        c = Clock()
        now_ = c.now
        for _ in range(reps):
            now_()
    else:
        # the REQUEST of the new client, which holds the offer
        eng.handle(d, now, tx, n)
        _patch(r, new)
        r[_O50:_O50 + 4] = tx[16:20]
        req.parse(n, r)
        eng.rx = r
        if name == "parse-r":
            for _ in range(reps):
                req.parse(n, r)
        elif name == "identify-r":
            for _ in range(reps):
                eng._identify()
        elif name == "off-at":
            for _ in range(reps):
                eng._off_at(req.off[1])
        elif name == "reply-ack":
            cl = eng._identify()
            eng.lease = 3600
            for _ in range(reps):
                eng._reply(tx, DHCPACK, cl, 1)
        elif name == "set-timer":
            cl = eng._identify()
            for _ in range(reps):
                eng.table.set_timer(cl, now + 3600)
        else:
            raise SystemExit("unknown phase " + name)


def driver_main(argv):
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.insert(0, here + "/../firmware")
    mode, count = argv[0], int(argv[1])
    if mode.startswith("phases:"):
        drive_phase(mode[7:], count)
    else:
        drive(mode, count)


# --------------------------------------------------------------------------- orchestrator (CPython)

MODES = ("harness", "engine", "log", "line", "client", "loop", "loop-log", "loop-line")
NET_MODES = ("client", "loop", "loop-log", "loop-line")
NETNS_SETUP = ("ip link set lo up && ip addr add 192.168.4.1/24 dev lo && "
               "ip addr add 192.168.4.250/24 dev lo && exec \"$@\"")


def _run(mode, count, work, keep_out=False):
    """Runs the driver under callgrind; returns (total Ir, {function: self Ir}, stdout lines)."""
    import os
    import shutil
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(work, "cg.%s.%d" % (mode.replace(":", "-"), count))
    mp = shutil.which("micropython")
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
            mp, os.path.join(root, "tools", "profile_dora.py"), "--drive", mode, str(count)]
    if mode in NET_MODES:
        argv = ["unshare", "-n", "sh", "-c", NETNS_SETUP, "sh"] + argv
    env = dict(os.environ, MICROPYPATH=os.path.join(root, "firmware"))
    log = os.path.join(work, "out.%s.%d" % (mode.replace(":", "-"), count))
    with open(log, "wb") as f:
        p = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE, env=env, timeout=900)
    if p.returncode != 0:
        raise RuntimeError("%s %d failed: %s" % (mode, count, p.stderr.decode(errors="replace")[-2000:]))
    total = None
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
    funcs = {}
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", out],
                         capture_output=True, text=True, timeout=300).stdout
    import re
    for line in ann.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S+?)(?:\s+\[.*\])?$", line)
        if m and ":" in m.group(2):
            name = m.group(2).split(":", 1)[1] if not m.group(2).startswith("???") else m.group(2)
            funcs[name] = funcs.get(name, 0) + int(m.group(1).replace(",", ""))
    with open(log, "rb") as f:
        lines = f.read().decode(errors="replace").splitlines()
    return total, funcs, lines


def per_unit(mode, count, work):
    a, fa, la = _run(mode, count, work)
    b, fb, _ = _run(mode, 0, work)
    diff = {k: (fa.get(k, 0) - fb.get(k, 0)) / count for k in set(fa) | set(fb)}
    return (a - b) / count, diff, la


def main(argv=None):
    import argparse
    import os
    import tempfile
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=240, help="DORAs per run (new clients, pool 248)")
    ap.add_argument("--reps", type=int, default=200, help="calls per engine phase")
    ap.add_argument("--top", type=int, default=12, help="C functions listed per loop mode")
    ap.add_argument("--modes", default=",".join(MODES) + ",phases")
    ap.add_argument("--keep", default=None, help="keep callgrind files in this directory")
    a = ap.parse_args(argv)
    modes = [m for m in a.modes.split(",") if m]
    if any(m in NET_MODES for m in modes) and os.geteuid() != 0:
        print("profile_dora: the socket modes need root (unshare -n); leaving out %s"
              % ",".join(m for m in modes if m in NET_MODES), file=sys.stderr)
        modes = [m for m in modes if m not in NET_MODES]
    work = a.keep or tempfile.mkdtemp(prefix="profile_dora.")
    os.makedirs(work, exist_ok=True)
    res, funcs = {}, {}
    for m in modes:
        if m == "phases":
            continue
        res[m], funcs[m], lines = per_unit(m, a.clients, work)
        if m in ("log", "line", "loop-log", "loop-line"):
            ev = [x for x in lines if x.startswith("DHCPOFFER(") or x.startswith("DHCPACK(")]
            if len(ev) != 2 * a.clients:
                raise RuntimeError("%s: %d event lines for %d DORAs" % (m, len(ev), a.clients))
        print("%-9s %10.0f instructions per DORA" % (m, res[m]), flush=True)
    ph = {}
    if "phases" in modes:
        for name in PHASES:
            ph[name] = per_unit("phases:" + name, a.reps, work)[0]
        base = ph.pop("empty")
        ph = {k: v - base for k, v in ph.items()}
    print()
    print("\n".join(table(res, ph)))
    for m in ("loop", "loop-log", "loop-line"):
        if m in funcs:
            print()
            print("C functions, self instructions per DORA, mode %s:" % m)
            top = sorted(funcs[m].items(), key=lambda kv: -kv[1])[:a.top]
            for name, v in top:
                print("  %-40s %9.0f  %5.1f %%" % (name, v, 100.0 * v / res[m]))
    if not a.keep:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 0


def table(res, ph):
    out = []
    h = res.get("harness")

    def row(name, v, note=""):
        out.append("%-52s %9s  %s" % (name, "-" if v is None else "%.0f" % v, note))
    out.append("%-52s %9s  %s" % ("one DORA (DISCOVER + REQUEST)", "instr.", ""))
    eng = res["engine"] - h if "engine" in res and h is not None else None
    if ph:
        row("  parse DISCOVER + REQUEST", ph["parse-d"] + ph["parse-r"])
        row("  identify and hash (DISCOVER + REQUEST)", ph["identify-d"] + ph["identify-r"])
        row("  table: take a slot, address to offset, expiry heap", ph["take"] + ph["off-at"] + ph["set-timer"])
        row("  reply building: OFFER + ACK", ph["reply-offer"] + ph["reply-ack"],
            "per reply: clearing (one 320-byte pack_into) %.0f, options 55/always %.0f" % (ph["clear"], ph["params"]))
        if eng is not None:
            parts = ph["parse-d"] + ph["parse-r"] + ph["identify-d"] + ph["identify-r"] + \
                ph["take"] + ph["off-at"] + ph["set-timer"] + ph["reply-offer"] + ph["reply-ack"]
            row("  the rest of handle() (decisions, counters, calls)", eng - parts)
    row("engine: Engine.handle x2", eng)
    if "loop" in res and "engine" in res and "client" in res:
        shell = res["loop"] - res["engine"] - (res["client"] - h)
        row("socket shell: Server.poll x2 around handle", shell,
            "clock: %s per now(), 4 calls" % ("%.0f" % ph["clock"] if ph else "?"))
    if "log" in res and "engine" in res:
        row("default event lines (OFFER + ACK), host logger", res["log"] - res["engine"])
    if "line" in res and "engine" in res:
        row("  the same by status.event_line per event (old path)", res["line"] - res["engine"])
    if "loop" in res and "client" in res:
        row("server total, --quiet (loop - client side)", res["loop"] - (res["client"] - h) - h)
    if "loop-log" in res and "client" in res:
        row("server total, default event lines", res["loop-log"] - (res["client"] - h) - h)
    if "loop-line" in res and "client" in res:
        row("server total, lines by status.event_line (old)", res["loop-line"] - (res["client"] - h) - h)
    if "client" in res:
        row("(the driver's client side, not the server)", res["client"] - h)
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        driver_main(sys.argv[2:])
    elif not _MP:
        sys.exit(main())
