#!/usr/bin/env python3
"""The engine on the Cortex-M3 firmware (qemu MPS2_AN385, microdhcp frozen; tools/build_firmware.py).

  python3 tools/qemu_run.py [--elf FILE] [--capacity N] [--timeout S]

Boots the firmware under qemu-system-arm, talks to its raw REPL over the emulated UART (qemu's
stdio: qemu reads from the pipe only when the UART can take a byte, so nothing is lost), and runs:
  1. mem_dora.run(N): a capacity-N engine serving N clients DISCOVER..ACK through Engine.handle,
     every call with the heap locked (any allocation raises MemoryError and fails the check);
  2. the lease store's write path: LeaseStore.commit of every slot with the heap locked, into a
     sink file (the port has no filesystem), each record checked against binascii.crc32;
  3. micropython.mem_info() and gc figures after the run.
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


class Board:
    """One qemu process; exec(code) runs code in the raw REPL and returns (stdout, stderr)."""

    def __init__(self, elf, timeout=60):
        self.p = subprocess.Popen(QEMU + [elf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
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
    ap.add_argument("--timeout", type=float, default=120)
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
    for what, ok in checks:
        print("%s %s" % ("ok  " if ok else "FAIL", what))
        if ok:
            passed += 1
        else:
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
