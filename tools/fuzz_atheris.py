#!/usr/bin/env python3
# fuzz_atheris: coverage-guided fuzzing of Engine.handle with atheris (libFuzzer) on CPython.
#
#   python3 tools/fuzz_atheris.py --seconds 60            # CI: bounded run, prints a summary
#   python3 tools/fuzz_atheris.py --seconds 3600 --fresh  # one fresh engine per input
#   python3 tools/fuzz_atheris.py --make-corpus           # rewrite host_tests/fuzz_corpus/*.bin
#   options: --reset N (persistent engine renewed every N inputs), --scapy-every K, --work DIR
#   (libFuzzer's growing corpus, default /tmp/microdhcp-fuzz-work), --selftest-crash (fails on
#   the first accepted DECLINE: shows the crash path works), -- LIBFUZZER_ARGS...
#
# Inputs are records (ctl, length, message; see host_tests/core/fuzzcase.py) run against one
# engine that persists for up to --reset inputs (default), or against a fresh engine per input
# (--fresh). After every message: no exception escapes, every table invariant holds
# (host_tests/core/invariants.py) and every reply parses with our parser; one reply in
# --scapy-every is also decoded by scapy (no Raw layer, no non-zero padding, options decoded).
# A failing input is saved by libFuzzer to host_tests/fuzz_corpus/crashes/crash-<sha1>; in
# persistent mode the engine's history since its last reset is saved beside it as
# history-<sha1>, which reproduces the failure on a fresh engine. Both are replayed by
# host_tests/core/test_fuzz_mutation.py::test_replay_crash_fixtures. Exit status 1 on a crash.
# Needs: pip install -r tools/requirements-dev.txt (atheris, scapy).
import hashlib
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "host_tests", "core")
CORPUS = os.path.join(ROOT, "host_tests", "fuzz_corpus")
CRASHES = os.path.join(CORPUS, "crashes")
sys.path[:0] = [CORE, os.path.join(ROOT, "firmware")]


def make_corpus():
    """Seeds: every valid message of fuzzcase.seeds() alone (each engine variant), and DORA,
    renew, release, decline sequences with the addresses the engine actually offered."""
    import fuzzcase as fc
    import dhcpkit as k
    os.makedirs(CORPUS, exist_ok=True)
    for f in os.listdir(CORPUS):
        if f.endswith(".bin"):
            os.remove(os.path.join(CORPUS, f))
    names = {1: "discover", 3: "request", 4: "decline", 7: "release", 8: "inform"}
    written = 0

    def save(name, recs):
        nonlocal written
        with open(os.path.join(CORPUS, "%s.bin" % name), "wb") as f:
            f.write(fc.encode(recs))
        written += 1

    for i, m in enumerate(fc.seeds()):
        e = fc.make_engine(0)
        e.handle(m, 0, e.tx)
        kind = names.get(e.req.msg_type, "msg")
        for v in range(len(fc.VARIANTS)):
            save("seed%02d-%s-v%d" % (i, kind, v), [(v << 6, m)])
    # Conversations: DORA, renew at T1, rebind, release, decline, reservation, relay, rapid commit.
    for v in range(len(fc.VARIANTS)):
        for c in (1, 2, fc.RES_MAC, fc.RES_MAC2):
            e = fc.make_engine(v)
            recs = []
            d = k.msg(k.DISCOVER, c, ((55, b"\x01\x03\x06\x72"), (12, b"dev")))
            recs.append((v << 6, d))
            n = e.handle(d, 0, e.tx)
            if not n:
                continue
            yi = bytes(e.tx[16:20])
            for m, step in ((k.msg(k.REQUEST, c, ((50, yi), (54, fc.SERVER))), 1),
                            (k.msg(k.REQUEST, c, (), ciaddr=yi), 44),       # ctl 44 -> 75 s, past T1
                            (k.msg(k.REQUEST, c, (), ciaddr=yi, flags=0x8000), 44),
                            (k.msg(k.REQUEST, c, ((50, yi),)), 4)):
                recs.append(((v << 6) | step, m))
            save("conv-dora-renew-c%d-v%d" % (c, v), recs)
            save("conv-release-c%d-v%d" % (c, v), recs[:2] + [(v << 6, k.msg(k.RELEASE, c, ((54, fc.SERVER),), ciaddr=yi))])
            save("conv-decline-c%d-v%d" % (c, v), recs[:2] + [(v << 6, k.msg(k.DECLINE, c, ((50, yi), (54, fc.SERVER))))])
            # A second client tries to take it (hijack shapes).
            save("conv-hijack-c%d-v%d" % (c, v), recs[:2] + [
                (v << 6, k.msg(k.REQUEST, 5, ((50, yi), (54, fc.SERVER)))),
                (v << 6, k.msg(k.REQUEST, 5, ((61, b"\x01" + k.mac(c)),), ciaddr=yi)),
                (v << 6, k.msg(k.RELEASE, 5, ((61, b"\x01" + k.mac(c)),), ciaddr=yi))])
        e = fc.make_engine(v)
        d = k.msg(k.DISCOVER, 9, ((61, fc.RES_ID), (80, b"")))
        save("conv-rapid-resid-v%d" % v, [(v << 6, d), (v << 6, k.msg(k.RELEASE, 9, ((61, fc.RES_ID),), ciaddr=k.ip("192.168.4.50")))])
    # Flood shape: new clients until the offer cap, then a returning one.
    save("conv-flood", [(0, k.msg(k.DISCOVER, 100 + i)) for i in range(8)] + [(60, k.msg(k.DISCOVER, 100))])
    return written


# --- worker (runs under atheris) ----------------------------------------------------------------
def worker(argv, fresh, reset, scapy_every, selftest=False):
    import atheris
    with atheris.instrument_imports(include=["microdhcp"]):
        import microdhcp.engine  # noqa: F401
        import microdhcp.packet  # noqa: F401
        import microdhcp.leases  # noqa: F401
        import microdhcp.config  # noqa: F401
    import fuzzcase as fc
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.packet import Raw, Padding
    from scapy.config import conf
    conf.verb = 0

    state = {"e": None, "count": 0, "history": [], "replies": 0}

    def scapy_check(e, n):
        p = BOOTP(bytes(e.tx[:n]))
        assert p.haslayer(DHCP), "scapy: no DHCP layer"
        assert not p.haslayer(Raw), "scapy: Raw bytes in the reply: %r" % p[Raw].load
        if p.haslayer(Padding):
            assert not any(p[Padding].load), "scapy: non-zero padding"
        opts = p[DHCP].options
        assert "end" in opts, "scapy: no end option"
        for o in opts:
            if isinstance(o, tuple):
                assert len(o) >= 2, "scapy: option without value %r" % (o,)
        assert opts[0][0] == "message-type"

    def handle(e, m, now, tx):
        n = e.handle(m, now, tx)
        if selftest and e.counters[13]:
            raise AssertionError("--selftest-crash: a DECLINE was accepted (proves the crash path)")
        if n:
            state["replies"] += 1
            if state["replies"] % scapy_every == 0:
                scapy_check(e, n)
        return n

    def one(data):
        if fresh:
            fc.run_input(data, None, handle)
            return
        e = state["e"]
        if e is None or state["count"] >= reset:
            e = state["e"] = fc.make_engine(0)
            state["count"] = 0
            state["history"] = [(0, b"")]   # a variant-0 engine from time 0
        state["count"] += 1
        recs = fc.records(data)
        state["history"].extend(recs)
        for ctl, m in recs:
            fc.run_one(e, m, fc.step_of(ctl), handle)

    def target(data):
        try:
            one(data)
        except Exception:
            if not fresh:
                h = fc.encode(state["history"])
                os.makedirs(CRASHES, exist_ok=True)
                name = "history-" + hashlib.sha1(h).hexdigest()
                with open(os.path.join(CRASHES, name), "wb") as f:
                    f.write(h)
                print("history of the persistent engine saved as", os.path.join(CRASHES, name), flush=True)
            raise

    atheris.Setup([sys.argv[0]] + argv, target)
    atheris.Fuzz()


def main():
    args = sys.argv[1:]
    if "--worker" in args:
        i = args.index("--worker")
        opts = args[:i]
        worker(args[i + 1:], "--fresh" in opts, int(_opt(opts, "--reset", 2000)), int(_opt(opts, "--scapy-every", 16)),
               "--selftest-crash" in opts)
        return 0
    if "-h" in args or "--help" in args:
        head = open(__file__).read().split("\nimport ")[0]
        print("\n".join(line[2:] for line in head.splitlines()[1:]))
        return 0
    if "--make-corpus" in args:
        print("wrote %d seed inputs to %s" % (make_corpus(), CORPUS))
        return 0
    seconds = int(_opt(args, "--seconds", 60))
    work = _opt(args, "--work", os.path.join("/tmp", "microdhcp-fuzz-work"))
    extra = args[args.index("--") + 1:] if "--" in args else []
    os.makedirs(work, exist_ok=True)
    os.makedirs(CRASHES, exist_ok=True)
    if not [f for f in os.listdir(CORPUS) if f.endswith(".bin")]:
        make_corpus()
    before = set(os.listdir(CRASHES))
    wopts = [a for a in ("--fresh", "--selftest-crash") if a in args]
    for name in ("--reset", "--scapy-every"):
        if name in args:
            wopts += [name, _opt(args, name, "")]
    cmd = [sys.executable, os.path.abspath(__file__)] + wopts + ["--worker",
           "-max_total_time=%d" % seconds, "-print_final_stats=1", "-max_len=1600", "-timeout=10",
           "-artifact_prefix=" + CRASHES + "/", work, CORPUS] + extra
    print("running:", " ".join(cmd), flush=True)
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    execs = cov = ft = None
    tail = []
    for line in proc.stdout:
        tail = (tail + [line])[-60:]
        m = re.match(r"#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+)", line)
        if m:
            execs, cov, ft = int(m.group(1)), int(m.group(3)), int(m.group(4))
            if m.group(2) in ("INITED", "DONE", "pulse"):
                print(line.rstrip(), flush=True)
        s = re.match(r"stat::number_of_executed_units: (\d+)", line)
        if s:
            execs = int(s.group(1))
    rc = proc.wait()
    new = sorted(set(os.listdir(CRASHES)) - before)
    if rc != 0 or new:
        sys.stdout.write("".join(tail))
    elapsed = time.time() - t0
    print("fuzz summary: %s executions in %.0f s (%s/s), coverage cov=%s ft=%s, crashes=%d%s" % (
        execs, elapsed, int(execs / elapsed) if execs else 0, cov, ft, len([n for n in new if not n.startswith("history-")]),
        (" -> " + ", ".join(os.path.join(CRASHES, n) for n in new)) if new else ""))
    if new:
        print("each crash is now a fixture replayed by host_tests/core/test_fuzz_mutation.py; fix the engine and rerun")
    return 1 if (new or rc not in (0,)) else 0


def _opt(args, name, default):
    if name in args:
        i = args.index(name)
        if i + 1 < len(args):
            return args[i + 1]
    return default


if __name__ == "__main__":
    sys.exit(main())
