#!/usr/bin/env python3
"""Runs the whole microdhcp test suite and prints one closing line `N passed, M failed`.

Stages (all by default; --only picks one):
  cpython       pytest over host_tests/ on CPython: core tests, tool tests, board simulator and,
                as root, the namespace-lab integration tests with real clients
  cpython-core  pytest over host_tests/core only
  integration   pytest over host_tests/integration only
  micropython   host_tests/mp_runner.py under the `micropython` unix port, twice: with the
                machine-code twins of microdhcp.fast (viper) and with --plain (plain Python)
  mp32-frozen   host_tests/mp_runner.py --frozen under the 32-bit unix build with microdhcp frozen
                (build/firmware, `make firmware`): the package comes from the frozen modules
  qemu-m3       tools/qemu_run.py: the engine on the Cortex-M3 build under qemu (254 clients,
                heap locked, store records, mem_info)
  typecheck     tools/typecheck.sh (firmware/ and boards/ against the board stubs)
  lint          tools/lint.sh (ruff, pyproject.toml; generated unit files and settings table current)
  fuzz          a bounded atheris run of the DHCP engine (FUZZ_CI_SECONDS, default 60)
  fuzz-dns      a bounded atheris run of the DNS responder that answers every station in captive
                and names mode (FUZZ_DNS_CI_SECONDS, default 30)
  rp2           tools/test_rp2.py: the Pico firmware with microdhcp frozen, in the rp2040js emulator

  python3 tools/run_tests.py [--only STAGE | --stages A,B,...]

By default (no argument) the stages run in two lanes at once: the cpython stage, whose lab tests
spend most of their time waiting on clients, timers and restarts, and the other stages one after
another in a child process at a lower CPU priority (nice 10) so that they take the idle core time
and give way to the lab when it needs both cores. The second lane's output is kept in
out/lane-b.log and printed when both lanes are done. MICRODHCP_SERIAL=1 runs every stage in turn
in this process instead. --stages runs the named stages in turn (what the second lane is).

pytest's exit 5 (no tests collected) counts as a failure. As root every test is required:
MICRODHCP_REQUIRE_LAB=1 turns a skip into a failure (host_tests/conftest.py; the one exception is
a test marked host_condition, for what no install changes).
"""
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def pytest_stage(paths, name):
    xml = os.path.join(ROOT, "out", "junit-%s.xml" % name)
    os.makedirs(os.path.dirname(xml), exist_ok=True)
    env = dict(os.environ)
    if os.geteuid() == 0:
        env.setdefault("MICRODHCP_REQUIRE_LAB", "1")
    rc = run([sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "--junitxml", xml] + paths, env)
    passed = failed = skipped = 0
    if os.path.exists(xml):
        root = ET.parse(xml).getroot()
        for suite in root.iter("testsuite"):
            total = int(suite.get("tests", 0))
            f = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            s = int(suite.get("skipped", 0))
            passed += total - f - s
            failed += f
            skipped += s
    if rc == 5:
        print("%s: pytest collected no tests: that is a failure" % name)
        failed += 1
    elif rc != 0 and failed == 0:
        failed += 1   # pytest failed without a test failure (collection error, crash)
    return passed, failed, skipped


def counted_stage(cmd=("micropython", "host_tests/mp_runner.py"), timeout=None):
    # A script that ends with "N passed, M failed" and may report "not run: K"
    # (host_tests/mp_runner.py, tools/qemu_run.py, tools/test_rp2.py).
    print("+ " + " ".join(cmd), flush=True)
    try:
        out = subprocess.run(list(cmd), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("%s: %r" % (cmd[0], e))
        return 0, 1, 0
    print(out.stdout, end="")
    last = [l for l in out.stdout.splitlines() if l.endswith(" failed") and " passed, " in l]
    if not last:
        return 0, 1, 0
    p, f = last[-1].split(" passed, ")
    passed, failed = int(p.split()[-1]), int(f.split()[0])
    if out.returncode != 0 and failed == 0:
        failed = 1
    skipped = [int(l.split()[-1]) for l in out.stdout.splitlines() if l.startswith("not run: ")]
    return passed, failed, (skipped[-1] if skipped else 0)


def both_paths():
    # The core suite on the unix port once per engine path (viper where it compiles, then plain).
    a = counted_stage()
    b = counted_stage(("micropython", "host_tests/mp_runner.py", "--plain"))
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def firmware_stage(cmd, timeout):
    # Stages on the firmware built from the vendored MicroPython source (tools/build_firmware.py;
    # `make test` builds it first, and so does this when it is missing or out of date).
    if run([sys.executable, "tools/build_firmware.py"]) != 0:
        print("firmware build failed")
        return 0, 1, 0
    return counted_stage(cmd, timeout)


def script_stage(cmd, name):
    if not os.path.exists(os.path.join(ROOT, cmd[-1] if cmd[0] == "sh" else cmd[1])):
        print("%s: not present, skipped" % name)
        return 0, 0, 1
    rc = run(cmd)
    return (1, 0, 0) if rc == 0 else (0, 1, 0)


STAGES = {
    "cpython": lambda: pytest_stage(["host_tests"], "cpython"),
    "cpython-core": lambda: pytest_stage(["host_tests/core"], "core"),
    "integration": lambda: pytest_stage(["host_tests/integration"], "integration"),
    "micropython": lambda: both_paths(),
    "mp32-frozen": lambda: firmware_stage(("build/firmware/micropython-32-frozen",
                                            "host_tests/mp_runner.py", "--frozen"), 900),
    "qemu-m3": lambda: firmware_stage((sys.executable, "tools/qemu_run.py"), 900),
    "typecheck": lambda: script_stage(["sh", "tools/typecheck.sh"], "typecheck"),
    "lint": lambda: script_stage(["sh", "tools/lint.sh"], "lint"),
    "fuzz": lambda: script_stage([sys.executable, "tools/fuzz_atheris.py", "--seconds",
                                  os.environ.get("FUZZ_CI_SECONDS", "60")], "fuzz"),
    "fuzz-dns": lambda: script_stage([sys.executable, "tools/fuzz_dns_atheris.py", "--seconds",
                                      os.environ.get("FUZZ_DNS_CI_SECONDS", "30")], "fuzz-dns"),
    "rp2": lambda: counted_stage([sys.executable, "tools/test_rp2.py"]),
}
# `make test`: lane A is the cpython stage; lane B the rest, longest first (rp2 builds its firmware).
LANE_A = ("cpython",)
LANE_B = ("rp2", "qemu-m3", "micropython", "mp32-frozen", "fuzz", "fuzz-dns", "typecheck", "lint")
LANE_B_LOG = os.path.join(ROOT, "out", "lane-b.log")
LANE_B_NICE = 10
LANE_B_WAIT = 3600         # seconds lane B may run on after lane A ends (each stage has its own limits)
# One summary line per stage; lane A reads lane B's from its log, so the format is parsed too.
LINE = "%-12s %4d passed, %d failed, %d skipped (%.0f s)"
LINE_RE = re.compile(r"^(\S+) +(\d+) passed, (\d+) failed, (\d+) skipped \((\d+) s\)$")


def run_stages(names):
    # Runs the stages in turn; returns their summary lines as (name, passed, failed, skipped, line).
    out = []
    for name in names:
        t0 = time.time()
        p, f, s = STAGES[name]()
        out.append((name, p, f, s, LINE % (name, p, f, s, time.time() - t0)))
        print(out[-1][4], flush=True)   # at once too: lane A reads it even if a later stage hangs
    return out


def lane_b_results(text, names):
    # Lane B's stage lines from its log; a stage with no line (the child died or overran) failed.
    got = {}
    for line in text.splitlines():
        m = LINE_RE.match(line)
        if m and m.group(1) in names:
            got[m.group(1)] = (m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)), line)
    return [got.get(n, (n, 0, 1, 0, "%-12s no result: lane B ended before this stage did" % n)) for n in names]


def _lane_b_start():
    # In the child before it runs: its own process group (so that stopping it stops the emulators
    # and runners it started) and a lower priority than lane A's lab tests.
    os.setsid()
    os.nice(LANE_B_NICE)


def _stop(child):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def run_lanes():
    os.makedirs(os.path.dirname(LANE_B_LOG), exist_ok=True)
    cmd = [sys.executable, "-u", os.path.abspath(__file__), "--stages", ",".join(LANE_B)]
    print("+ lane B (nice %d, output in %s): %s" % (LANE_B_NICE, os.path.relpath(LANE_B_LOG, ROOT),
                                                   " ".join(LANE_B)), flush=True)
    # Lane B has its own process group (so that _stop ends its emulators too), which a signal to
    # ours does not reach: a SIGTERM or SIGHUP here ends this process through the finally below.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    with open(LANE_B_LOG, "w") as log:
        child = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                 preexec_fn=_lane_b_start)
        try:
            a = run_stages(LANE_A)
            try:
                child.wait(LANE_B_WAIT)
            except subprocess.TimeoutExpired:
                _stop(child)
                print("lane B overran its %d s after lane A: stopped" % LANE_B_WAIT)
        finally:
            if child.poll() is None:    # interrupted: leave no lane behind
                _stop(child)
    with open(LANE_B_LOG) as f:
        text = f.read()
    print("\n===== lane B (%s) =====" % os.path.relpath(LANE_B_LOG, ROOT))
    print(text, end="" if text.endswith("\n") else "\n")
    print("===== end of lane B =====")
    b = lane_b_results(text, LANE_B)
    if child.returncode != 0 and not any(r[2] for r in b):
        b.append(("lane-b", 0, 1, 0, "lane-b       exited with %d and no failed stage" % child.returncode))
    return a + b


def main(argv):
    only = None
    if len(argv) == 2 and argv[0] in ("--only", "--stages"):
        only = argv[1].split(",")
        unknown = [n for n in only if n not in STAGES]
        if unknown or (argv[0] == "--only" and len(only) != 1):
            print("unknown stage %s; stages: %s" % (",".join(unknown) or argv[1], " ".join(STAGES)))
            return 2
    elif argv:
        print(__doc__)
        return 2
    if only is not None:
        results = run_stages(only)
    elif os.environ.get("MICRODHCP_SERIAL"):
        results = run_stages(LANE_A + LANE_B)
    else:
        results = run_lanes()
    total_p = sum(r[1] for r in results)
    total_f = sum(r[2] for r in results)
    print("\n".join(r[4] for r in results))
    if total_p == 0:
        print("no test ran: that is a failure")
        total_f += 1
    print("%d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
