#!/usr/bin/env python3
"""The engine on the Cortex-M3 firmware (qemu MPS2_AN385, microdhcp frozen; tools/build_firmware.py).

  python3 tools/qemu_run.py [--elf FILE] [--capacity N] [--timeout S] [--no-suite]

Boots the firmware under qemu-system-arm, talks to its raw REPL over the emulated UART (qemu's
stdio: qemu reads from the pipe only when the UART can take a byte, so nothing is lost), and runs:
  1. mem_dora.run(N): a capacity-N engine serving N clients DISCOVER..ACK through Engine.handle,
     every call with the heap locked (any allocation raises MemoryError and fails the check);
  2. the lease store's write path: LeaseStore.commit of every slot with the heap locked, into a
     sink file (the port has no filesystem), each record checked against binascii.crc32;
  3. micropython.mem_info() and gc figures after the run.
  4. the core suite (host_tests/core, compiled for armv7m into a ROMFS image mounted at /rom, run
     in place) on a copy of the firmware with a 384 KiB heap, but for the tests in NOT_ON_QEMU;
Ends with "N passed, M failed" like host_tests/mp_runner.py; exits 1 on any failure or timeout.
"""
import os
import re
import select
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ELF = os.path.join(ROOT, "build", "firmware", "qemu-an385.elf")
QEMU = ["qemu-system-arm", "-machine", "mps2-an385", "-nographic", "-monitor", "null",
        "-semihosting", "-serial", "stdio", "-kernel"]


# Bound on the engine's Cortex-M3 instructions per DORA (tools/qemu_dora.py, the viper path).
DORA_BOUND = 196000


class Board:
    """One qemu process; exec(code) runs code in the raw REPL and returns (stdout, stderr)."""

    def __init__(self, elf, timeout=60, extra=()):
        self.p = subprocess.Popen(QEMU[:-1] + list(extra) + ["-kernel", elf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, bufsize=0)
        self.buf = b""
        self.timeout = timeout
        self.p.stdin.write(b"\r\x03\x03")
        self.read_until(b">>> ")
        self.p.stdin.write(b"\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>")

    def read_until(self, end, timeout=None):
        deadline = time.time() + (timeout or self.timeout)
        fd = self.p.stdout.fileno()
        while end not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("qemu: no %r within the time limit; got %r" % (end, self.buf[-300:]))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise EOFError("qemu exited; got %r" % self.buf[-300:])
                self.buf += chunk
        i = self.buf.index(end) + len(end)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exec(self, code, timeout=None):
        self.p.stdin.write(code.encode() + b"\x04")
        self.read_until(b"OK", timeout)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.read_until(b">", timeout)
        return out.decode(errors="replace"), err.decode(errors="replace")

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


# Runs on the board. The store's write path: LeaseStore without load() (no filesystem), its file a
# sink that keeps the last record, commit() of every slot with the heap locked.
STORE_CHECK = """
import micropython, gc
from binascii import crc32
from microdhcp.store import LeaseStore, RESIDUE
class Sink:
    def __init__(self):
        self.n = 0
        self.last = bytearray(200)
        self.len = 0
    def write(self, b):
        self.n += 1
        self.len = len(b)
        self.last[:len(b)] = b
        return len(b)
    def flush(self):
        pass
def store_check(eng):
    st = LeaseStore("/none", eng, durable=False)
    st.f = Sink()
    st.limit = 1 << 20
    bad = 0
    for s in range(eng.table.capacity):
        micropython.heap_lock()
        try:
            st.commit(s, 10)
        finally:
            micropython.heap_unlock()
        if crc32(memoryview(st.f.last)[:st.f.len]) != RESIDUE:
            bad += 1
    print("RECORDS %d" % st.f.n)
    print("BADCRC %d" % bad)
"""


# Runs on the board: every test function of the core test modules in the ROMFS image (compiled
# with mpy-cross for armv7m, executed in place from /rom), as host_tests/mp_runner.py does.
SUITE = """
import os, sys, gc
def suite(skip):
    import microdhcp.engine
    print("microdhcp.engine from", microdhcp.engine.__file__)
    if microdhcp.engine.__file__ != "microdhcp/engine.py":
        raise SystemExit("microdhcp is not the frozen copy")
    names = sorted(n[:-4] for n in os.listdir("/rom") if n.startswith("test_") and n.endswith(".mpy"))
    passed = failed = skipped = 0
    for name in names:
        if name in skip:
            skipped += 1      # a whole module that cannot import here (sockets)
            continue
        mod = __import__(name)
        for t in sorted(k for k in dir(mod) if k.startswith("test_")):
            full = name + "." + t
            if full in skip:
                skipped += 1
                continue
            gc.collect()
            try:
                getattr(mod, t)()
                passed += 1
            except Exception as e:
                failed += 1
                print("FAIL", full)
                sys.print_exception(e)
                if isinstance(e, MemoryError):
                    import micropython
                    micropython.mem_info()
        del sys.modules[name]
    print("SUITE %d passed, %d failed, %d not run" % (passed, failed, skipped))
"""

# Core tests not run on this port, and why: most need a writable filesystem (the qemu port has
# only the read-only ROMFS). Everything else in host_tests/core runs.
NOT_ON_QEMU = {
    "test_store.test_round_trip_every_state": "lease file",
    "test_store.test_truncate_at_every_offset": "lease file",
    "test_store.test_corrupt_every_byte": "lease file",
    "test_store.test_garbage_files_start_clean": "lease file",
    "test_store.test_compaction_keeps_state_and_bounds_size": "lease file",
    "test_store.test_interrupted_compaction": "lease file",
    "test_store.test_churn_10000_bounded": "lease file",
    "test_store.test_renewals_do_not_write_10_clients_one_day": "lease file",
    "test_store.test_config_changes_are_skipped_and_counted": "lease file",
    "test_store.test_long_client_ids_round_trip": "lease file",
    "test_store.test_version1_file_is_converted": "lease file",
    "test_store.test_no_allocation_per_record": "lease file (the write path runs in run_dora's store check)",
    "test_startup_errors.test_empty_file_is_a_new_store_not_damage": "lease file",
    "test_startup_errors.test_missing_directory_is_named_and_not_persistent": "a filesystem with directories",
    "test_startup_errors.test_damaged_file_that_cannot_be_kept_says_so": "lease file",
    "test_startup_errors.test_damaged_file_names_where_it_went": "lease file",
    "test_startup_errors.test_write_failure_while_serving_is_counted_said_once_and_serving_goes_on": "lease file",
    "test_startup_errors.test_board_says_a_socket_shell_that_does_not_fit_is_a_configuration_error":
        "UDP sockets (microdhcp.board imports net)",
    "test_startup_errors.test_board_serve_loop_goes_on_after_a_memory_error_from_poll":
        "UDP sockets (microdhcp.board imports net)",
    "test_store.test_no_memory_for_a_compaction_loses_no_lease": "lease file",
    "test_store.test_damaged_file_kept_until_its_rewrite_is_whole": "lease file",
    "test_store.test_a_directory_or_unreadable_file_is_left_alone": "a filesystem with directories",
    "test_store.test_power_cut_or_full_flash_at_any_byte_of_a_commit": "lease file",
    "test_store.test_loading_an_endless_lease_builds_no_big_int": "lease file",
    "test_store.test_no_memory_while_loading_is_not_damage": "lease file",
    "test_fuzz_mutation.test_replay_seed_corpus": "the fuzz corpus's files (not in the ROMFS image)",
    "test_dns.test_shell_drops_queries_from_loop_ports": "UDP sockets (microdhcp.dnsserver imports socket)",
    "test_dns.test_shell_counters_start_again_with_the_responders":
        "UDP sockets (microdhcp.dnsserver imports socket)",
    "test_dns.test_shell_binds_the_servers_own_address": "UDP sockets (microdhcp.dnsserver imports socket)",
    "test_dns.test_shell_says_when_the_servers_address_is_not_this_hosts":
        "UDP sockets (microdhcp.dnsserver imports socket)",
    # Whole modules (the key is the module): they import socket, which this port does not have.
    "test_kit": "UDP sockets",
    "test_board_config": "UDP sockets (microdhcp.board imports net)",
    "test_net_datagrams": "UDP sockets",
    "test_web": "TCP sockets (the portal's HTTP over loopback)",
}
# The suite's harness keeps event logs, live sets, dicts of every key and many engines beyond the
# server's own memory, and MicroPython's allocator spreads long-lived small objects over the heap:
# with the port's 140 KiB (and, once the churn tests grew a dict per check, with 384 KiB too:
# 314 KB free, no 2.3 KB hole) the flood and churn tests find no hole. The suite runs on a copy of
# the firmware with a 1 MiB heap (the board's SRAM region is 4 MiB, tools/firmware/
# mps2_an385_sram.ld); the server's own budgets are checked at small heaps by
# host_tests/test_firmware.py.
SUITE_HEAP = 1024 * 1024


def romfs_image(path):
    """Compiles host_tests/core/*.py and tools/dhcpkit.py (the message builder they import) for
    armv7m into a ROMFS image at path; returns its size."""
    sys.path.insert(0, os.path.join(ROOT, "build", "micropython", "tools", "mpremote"))
    from mpremote.romfs import VfsRomWriter
    mpy_cross = os.path.join(ROOT, "build", "firmware", "mpy-cross")
    core = os.path.join(ROOT, "host_tests", "core")
    tmp = path + ".d"
    os.makedirs(tmp, exist_ok=True)
    v = VfsRomWriter()
    srcs = [os.path.join(core, n) for n in sorted(os.listdir(core)) if n.endswith(".py")]
    for src in srcs + [os.path.join(ROOT, "tools", "dhcpkit.py")]:
        n = os.path.basename(src)[:-3]
        out = os.path.join(tmp, n + ".mpy")
        subprocess.check_call([mpy_cross, "-march=armv7m", "-o", out, src])
        with open(out, "rb") as f:
            v.mkfile(n + ".mpy", f.read())
    img = v.finalise()
    with open(path, "wb") as f:
        f.write(img)
    return len(img)


def run_suite(timeout):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import build_firmware as bf
    elf = bf.qemu_with_heap(SUITE_HEAP, os.path.join(bf.OUT, "qemu-suite"))
    img = os.path.join(ROOT, "build", "firmware", "core_tests.romfs")
    romfs_image(img)
    b = Board(elf, timeout, ["-device", "loader,file=%s,addr=0x21000000,force-raw=on" % img])
    try:
        return b.exec(SUITE + "suite(%r)\n" % (sorted(NOT_ON_QEMU),), timeout)
    finally:
        b.close()


def figures(out):
    return dict((k, int(v)) for k, v in re.findall(r"^([A-Z]+) (-?\d+)\r?$", out, re.M))


def run_dora(elf, capacity, timeout, extra=True):
    """Boots elf, runs the workload; returns (stdout, stderr) of the board."""
    b = Board(elf, timeout)
    try:
        code = "import mem_dora\neng, tx = mem_dora.run(%d)\n" % capacity
        if extra:
            code += STORE_CHECK + "store_check(eng)\nimport micropython\nmicropython.mem_info()\n"
        return b.exec(code, timeout)
    finally:
        b.close()


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elf", default=ELF)
    ap.add_argument("--capacity", type=int, default=254)
    ap.add_argument("--timeout", type=float, default=300)   # a hang guard (make test runs it beside the lab)
    ap.add_argument("--no-suite", action="store_true", help="skip the core suite from ROMFS")
    a = ap.parse_args(argv)
    passed = failed = 0
    try:
        out, err = run_dora(a.elf, a.capacity, a.timeout)
    except (TimeoutError, EOFError, OSError) as e:
        print("qemu-m3: %s" % e)
        print("0 passed, 1 failed")
        return 1
    print(out, end="")
    if err:
        print(err, end="")
    f = figures(out)
    n = a.capacity
    checks = [
        ("no error on the board", not err.strip()),
        ("%d clients ACKed" % n, f.get("ACKS") == n),
        ("%d handle() calls with the heap locked" % (2 * n), f.get("LOCKED") == 2 * n),
        ("%d store records written with the heap locked" % n, f.get("RECORDS") == n),
        ("every record's CRC-32 holds", f.get("BADCRC") == 0),
        ("mem_info printed", "GC: total:" in out),
    ]
    # The engine's instructions per DORA on this core, counted by qemu's icount (tools/qemu_dora.py):
    # deterministic for one binary (it repeats to within the 1 us tick, 4 instructions per DORA),
    # so a bound can be asserted: 180k measured (211k when it was added); the bound leaves ~9 %.
    import qemu_dora
    try:
        per = (qemu_dora.run(a.elf, 100, False) - qemu_dora.run(a.elf, 0, False)) // 100
    except SystemExit as e:
        per = -1
        print(e)
    print("engine instructions per DORA on Cortex-M3 (qemu icount): %d" % per)
    checks.append(("instructions per DORA <= %d" % DORA_BOUND, 0 < per <= DORA_BOUND))
    for what, ok in checks:
        print("%s %s" % ("ok  " if ok else "FAIL", what))
        if ok:
            passed += 1
        else:
            failed += 1
    if not a.no_suite:
        try:
            out, err = run_suite(a.timeout * 5)
        except (TimeoutError, EOFError, OSError) as e:
            out, err = "", str(e)
        print(out, end="")
        m = re.search(r"^SUITE (\d+) passed, (\d+) failed, (\d+) not run", out, re.M)
        if err.strip() or not m:
            print(err)
            print("FAIL core suite on the board did not finish")
            failed += 1
        else:
            passed += int(m.group(1))
            failed += int(m.group(2))
            print("core suite on Cortex-M3: %s passed, %s failed; not run: %s" % (
                m.group(1), m.group(2), "; ".join("%s (%s)" % kv for kv in sorted(NOT_ON_QEMU.items()))))
    if not a.no_suite:
        print("not run: %d" % len(NOT_ON_QEMU))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
