# Integration suite set-up: real DHCP clients against microdhcp in a namespace lab (tools/lab.py).
#
# Needs root and the client binaries. Without them every test here is skipped, unless
# MICRODHCP_REQUIRE_LAB=1 (CI, tools/run_tests.py as root): then each test FAILS, so a CI run
# cannot pass with the lab silently skipped.
#
# Each test gets its own Lab (fresh namespaces), a tcpdump capture on the bridge checked by
# tshark at teardown, and a `server` factory whose servers are stopped with SIGINT at teardown.
# Every test runs on both server runtimes (fixture `runtime`).
import os
import re
import signal
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

import lab as labmod  # noqa: E402

RUNTIMES = ("micropython", "cpython")
BINARIES = ("ip", "ethtool", "tcpdump", "tshark", "busybox", "dhclient", "dhcpcd", "nmap",
            "perfdhcp", "micropython")
REQUIRED = os.environ.get("MICRODHCP_REQUIRE_LAB") == "1"
VERBOSE = os.environ.get("MICRODHCP_LAB_VERBOSE") == "1"   # with -s: server logs, tshark summary


def _lab_problems():
    problems = labmod.missing_prerequisites(BINARIES)
    if not problems and "udhcpc" not in subprocess.run(["busybox", "--list"], capture_output=True, text=True,
                                                       timeout=10).stdout.split():
        problems.append("busybox has no udhcpc applet")
    return problems


_PROBLEMS = _lab_problems()


@pytest.fixture(autouse=True)
def _lab_prerequisites():
    if _PROBLEMS:
        msg = "namespace lab unavailable: " + "; ".join(_PROBLEMS)
        if REQUIRED:
            pytest.fail(msg + " (MICRODHCP_REQUIRE_LAB=1: the integration suite must run)",
                        pytrace=False)
        pytest.skip(msg)


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    return request.param


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach what the lab saw: every process log and tshark's packet summary."""
    outcome = yield
    rep = outcome.get_result()
    lab = getattr(item, "_microdhcp_lab", None)
    if rep.failed and lab is not None and lab.tmp is not None and lab.tmp.exists():
        for proc in lab.procs:
            rep.sections.append(("lab: " + " ".join(map(str, proc.argv[:3])), proc.output()))
        pcap = getattr(lab, "pcap", None)
        if pcap is not None and pcap.exists():
            cp = subprocess.run(["tshark", "-n", "-r", str(pcap)], capture_output=True,
                                text=True, timeout=30)
            rep.sections.append(("lab: capture", cp.stdout + cp.stderr))


@pytest.fixture
def lab(request):
    """A fresh Lab with a capture on its bridge; tshark checks the capture at teardown."""
    with labmod.Lab() as lab:
        pcap = lab.tmp / "capture.pcap"
        cap = lab.capture(lab.server_ns, lab.bridge, pcap)
        lab.pcap = pcap   # tests may read it while it runs (tcpdump -U writes every packet)
        request.node._microdhcp_lab = lab
        yield lab
        cap.stop()
        _check_capture(pcap, request.node.name)


def _check_capture(pcap, name):
    """Every frame tshark decodes: no malformed packet, no expert error or warning; the
    server replies (BOOTREPLY) are decoded as DHCP with a message type."""
    check = labmod.pcap_check(pcap)
    replies = labmod._cmd(["tshark", "-n", "-r", str(pcap), "-Y", "dhcp.type == 2",
                           "-T", "fields", "-e", "dhcp.option.dhcp"], timeout=30,
                          check=False).stdout.split("\n")
    replies = [r for r in replies if r.strip()]
    bad = [r for r in replies if not re.match(r"^[2356]$", r.strip())]
    detail = "%s: %s\n%s" % (name, {k: v for k, v in check.items() if k != "expert"},
                             check["expert"])
    assert check["packets"] > 0, "nothing captured: " + detail
    assert check["malformed"] == 0, "malformed frames: " + detail
    assert check["errors"] == 0 and check["warnings"] == 0, "tshark expert info: " + detail
    assert not bad, "replies without an OFFER/ACK/NAK type: %r %s" % (bad, detail)
    if VERBOSE:
        print("\n[capture] %s: %d frames, %d replies, malformed %d, errors %d, warnings %d"
              % (name, check["packets"], len(replies), check["malformed"], check["errors"],
                 check["warnings"]))


class Server:
    """One microdhcp process: its event lines now, its lease table and counters after stop()."""

    def __init__(self, proc):
        self.proc = proc
        self.returncode = None
        self.table = {}      # address -> {mac, client-id, hostname, state, left}
        self.counters = {}   # name -> int

    def output(self):
        return self.proc.output()

    def wait_for(self, regex, timeout=10.0):
        return self.proc.wait_for(regex, timeout)

    def events(self, kind=None, mac=None):
        """Event lines as (kind, fields) e.g. ("DHCPACK", ["192.168.4.23", "02:..:01"])."""
        out = []
        for line in self.output().splitlines():
            m = re.match(r"^(DHCP[A-Z]+)\([^)]*\) (.*)$", line)
            if not m or (kind and m.group(1) != kind):
                continue
            fields = m.group(2).split()
            if mac and mac not in fields:
                continue
            out.append((m.group(1), fields))
        return out

    def stop(self):
        """SIGINT (both runtimes print the table then), parse table and counters; idempotent."""
        if self.returncode is None:
            self.returncode = self.proc.stop(signal.SIGINT, timeout=5)
            self._parse()
        return self.returncode

    def _parse(self):
        lines = self.output().splitlines()
        try:
            start = max(i for i, l in enumerate(lines) if l.startswith("address "))
        except ValueError:
            return
        for line in lines[start + 1:]:
            if line.startswith("counters:"):
                self.counters = labmod.parse_counters(line)
                break
            f = line.split()
            if len(f) == 6:
                self.table[f[0]] = dict(zip(("mac", "client-id", "hostname", "state", "left"),
                                            f[1:]))


@pytest.fixture
def server(lab, runtime):
    """Factory: server(args, ns=None) starts microdhcp on this test's runtime and waits until
    it serves. All are stopped with SIGINT at teardown and must exit 0."""
    started = []

    def start(args, ns=None):
        s = Server(lab.start_server(list(args), runtime=runtime, ns=ns))
        started.append(s)
        assert s.wait_for(r"microdhcp: serving on", 15), "server did not start:\n" + s.output()
        return s

    yield start
    for s in started:
        s.stop()
    for s in started:
        if VERBOSE:
            print("\n[server %s]\n%s" % (" ".join(s.proc.argv[:1] + s.proc.argv[3:]), s.output()))
    for s in started:
        assert s.returncode == 0, "server exit %s:\n%s" % (s.returncode, s.output())
        assert s.counters or "counters:" in s.output(), "no table at SIGINT:\n" + s.output()
