#!/usr/bin/env python3
"""Network-namespace lab for microdhcp: a bridge in a server namespace, one namespace per client.

Host tooling (CPython 3.11, stdlib only), used by the integration tests, the demo and the
benchmarks. All traffic stays inside the namespaces created here; nothing is configured in the
host's own network namespace. Run as root.

    with Lab() as lab:
        srv = lab.start_server(lab.default_server_args())
        srv.wait_for("serving", 10)
        c = lab.add_client()
        print(lab.udhcpc(c).ip)

CLI: python3 tools/lab.py up N | down | cleanup | selftest
"""

import atexit
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRMWARE = REPO / "firmware"
PREFIX = "mdl"  # every namespace and temp dir of a lab starts with PREFIX + owner pid
_NS_RE = re.compile(r"^%s(\d+)\D" % PREFIX)   # mdl<pid>[tag]s, mdl<pid>[tag]c<n>
_TMP_RE = re.compile(r"^%s(\d+)\D*-" % PREFIX)  # mdl<pid>[tag]-XXXX temp dirs
IFNAMSIZ = 15  # longest Linux interface name
_STATE = Path(tempfile.gettempdir()) / "microdhcp-lab-up.txt"  # namespaces made by `lab.py up`


# ---------------------------------------------------------------- host commands

def _cmd(argv, timeout=10, check=True, env=None):
    """Run a host command (ip, ethtool, ...) bounded; raise with its stderr when check fails."""
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check and cp.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), cp.returncode, cp.stderr.strip()))
    return cp


def _netns_list():
    out = _cmd(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _pid_alive(pid):
    """True if pid exists and is not a zombie (a zombie child of ours still answers kill 0)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def _kill_ns_processes(ns, comm=None):
    """SIGKILL what still runs in ns (only processes named comm, if given).

    A namespace whose processes live on is not freed by `ip netns del`; its interfaces stay.
    """
    for _ in range(5):  # bounded: processes may fork while we kill
        pids = [int(p) for p in _cmd(["ip", "netns", "pids", ns], check=False).stdout.split()]
        if comm:
            pids = [p for p in pids if _comm(p).startswith(comm)]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _delete_ns(ns):
    _kill_ns_processes(ns)
    for _ in range(10):  # bounded retry
        cp = _cmd(["ip", "netns", "del", ns], check=False)
        if ns not in _netns_list():
            return
        sys.stderr.write("[lab] ip netns del %s: rc=%s %s\n" % (ns, cp.returncode, cp.stderr.strip()))
        time.sleep(0.2)


def cleanup_stale():
    """Remove namespaces and temp dirs of labs whose owner process is dead. Returns removed names.

    Labs made by `lab.py up` (listed in _STATE) are left alone: `down` removes those.
    """
    removed = []
    kept = set(_STATE.read_text().split()) if _STATE.exists() else set()
    for ns in _netns_list():
        m = _NS_RE.match(ns)
        if m and ns not in kept and not _pid_alive(int(m.group(1))):
            _delete_ns(ns)
            removed.append(ns)
    tmp = Path(tempfile.gettempdir())
    for d in tmp.iterdir():
        m = _TMP_RE.match(d.name)
        if m and d.is_dir() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
    return removed


# ---------------------------------------------------------------- helpers for lab users

def missing_prerequisites(binaries):
    """Why a lab cannot run here: [] when root and every binary is on PATH."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not root (network namespaces need root)")
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        problems.append("missing binaries: " + " ".join(missing))
    return problems


def wait_until(fn, timeout, step=0.05):
    """Poll fn() until it returns something true or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def parse_counters(text):
    """The server's `counters: name=N ...` line (printed at SIGINT) -> {name: N}; {} if absent."""
    m = re.search(r"^counters: (.*)$", text, re.M)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))} if m else {}


# ---------------------------------------------------------------- processes in namespaces

class Proc:
    """A long-running process inside a namespace, known by its real pid."""

    def __init__(self, popen, pid, log_path, argv):
        self.popen = popen
        self.pid = pid
        self.log_path = Path(log_path)
        self.argv = argv

    def alive(self):
        return self.popen.poll() is None and _pid_alive(self.pid)

    def output(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, regex, timeout=10.0):
        """Poll the log until regex matches; return the match, or None on timeout or exit."""
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            m = pat.search(self.output())
            if m:
                return m
            if time.monotonic() >= deadline or not self.alive():
                # one last look: the line may have landed just before the exit
                return pat.search(self.output())
            time.sleep(0.05)

    def stop(self, sig=signal.SIGINT, timeout=5.0):
        """Signal only this pid; SIGKILL it after timeout. Returns the exit code (or None)."""
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    self.popen.wait(2)
                except subprocess.TimeoutExpired:
                    pass
        return self.popen.poll()


@dataclass
class Client:
    ns: str        # namespace name, e.g. mdl1234c3
    ifname: str    # interface inside ns (same string as ns: unique host-wide, see add_client)
    mac: str
    name: str      # short label, e.g. c3 or the name given to add_client
    peer: str      # bridge-port end of the veth in the server namespace
    addresses: list = field(default_factory=list)  # static addresses from add_host_address

    def mac_bytes(self):
        return bytes(int(b, 16) for b in self.mac.split(":"))


@dataclass
class LeaseResult:
    """What a client obtained. ip is None when it got nothing; output keeps the client's log."""
    tool: str
    ip: str = None
    subnet: str = None
    router: str = None
    dns: list = field(default_factory=list)
    domain: str = None
    lease_time: int = None
    server_id: str = None
    reason: str = None       # script event that produced the lease (bound, BOUND, TEST, DHCPOFFER)
    env: dict = field(default_factory=dict)
    output: str = ""
    returncode: int = None

    @property
    def ok(self):
        return self.ip is not None


@dataclass
class PerfResult:
    """perfdhcp summary: stats['DO'] (DISCOVER-OFFER) and stats['RA'] (REQUEST-ACK) dicts."""
    stats: dict
    rate: float
    output: str
    returncode: int


# ---------------------------------------------------------------- client scripts

# One dump script serves udhcpc, dhclient and dhcpcd: each hands the lease to its script as
# environment variables, so the script appends "### EVENT" and `env` to a dump file. Paths are
# baked in because dhclient runs its script with a fresh environment (ours does not pass through).
_DUMP_SCRIPT = """#!/bin/sh
# udhcpc passes the event as $1; dhclient and dhcpcd pass it as $reason.
ev="${reason:-$1}"
# "#." closes the block: a reader polling the file while this runs skips an unfinished block.
{ echo "### $ev"; env; echo "#."; } >> '%(dump)s'
case "$ev" in
  bound|renew)  # udhcpc: configure the address so later unicast (renew, release) works
    ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
  BOUND|RENEW|REBIND|REBOOT)  # dhclient
    ip addr replace "$new_ip_address/${new_subnet_mask:-255.255.255.0}" dev "$interface" ;;
esac
exit 0
"""


def _parse_dump(text):
    """Split a dump file into [(event, {var: value})] in the order the script ran.

    Only blocks closed by the script's "#." line count: the file is polled while clients run,
    and a block read half-written would give an event with part of its variables.
    """
    blocks, cur = [], None
    for line in text.splitlines():
        if line.startswith("### "):
            cur = (line[4:].strip(), {})
        elif line == "#." and cur is not None:
            blocks.append(cur)
            cur = None
        elif cur is not None and "=" in line:
            k, v = line.split("=", 1)
            cur[1][k] = v
    return blocks


def _int_or_none(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return None


def _lease_from_udhcpc(event, env, res):
    res.reason, res.env = event, env
    res.ip, res.subnet, res.domain = env.get("ip"), env.get("subnet"), env.get("domain")
    res.router = (env.get("router") or "").split()[0] if env.get("router") else None
    res.dns = (env.get("dns") or "").split()
    res.lease_time = _int_or_none(env.get("lease"))
    res.server_id = env.get("serverid")
    return res


def _lease_from_isc_style(event, env, res):
    """dhclient and dhcpcd share the new_* variable names."""
    res.reason, res.env = event, env
    res.ip = env.get("new_ip_address")
    res.subnet = env.get("new_subnet_mask")
    routers = (env.get("new_routers") or "").split()
    res.router = routers[0] if routers else None
    res.dns = (env.get("new_domain_name_servers") or "").split()
    res.domain = env.get("new_domain_name")
    res.lease_time = _int_or_none(env.get("new_dhcp_lease_time"))
    res.server_id = env.get("new_dhcp_server_identifier")
    return res


def _nmap_duration(s):
    """nmap prints lease times as e.g. 1h00m00s, 2m00s, 1d00h00m00s, 45s."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([dhms])", s or "")
    return sum(int(n) * units[u] for n, u in parts) if parts else None


def _parse_nmap(out, res):
    """Take the first 'Response N of M' block of broadcast-dhcp-discover."""
    kv = {}
    for line in out.splitlines():
        m = re.match(r"^\|_?\s+([A-Za-z][A-Za-z ]*?):\s*(.*)$", line)
        if not m:
            continue
        key, val = m.group(1).strip(), m.group(2).strip()
        if key.startswith("Response") and kv:
            break
        kv.setdefault(key, val)
    res.env = kv
    res.reason = kv.get("DHCP Message Type")
    res.ip = kv.get("IP Offered")
    res.subnet = kv.get("Subnet Mask")
    res.router = (kv.get("Router") or "").split(",")[0].strip() or None
    res.dns = [d.strip() for d in (kv.get("Domain Name Server") or "").split(",") if d.strip()]
    res.domain = kv.get("Domain Name")
    res.lease_time = _nmap_duration(kv.get("IP Address Lease Time"))
    res.server_id = kv.get("Server Identifier")
    return res


def _parse_perfdhcp(out):
    """perfdhcp prints '***Statistics for: DISCOVER-OFFER***' then 'key: value' lines."""
    names = {"DISCOVER-OFFER": "DO", "REQUEST-ACK": "RA"}
    stats, cur, rate = {}, None, None
    for line in out.splitlines():
        m = re.match(r"^\*\*\*Statistics for: (\S+)\*\*\*", line)
        if m:
            cur = stats.setdefault(names.get(m.group(1), m.group(1)), {})
            continue
        m = re.match(r"^Rate: ([\d.]+)", line)
        if m:
            rate = float(m.group(1))
            continue
        m = re.match(r"^([a-z][a-z ]+): ([\d.]+)", line)
        if cur is not None and m:
            key = m.group(1).replace(" ", "_")
            val = m.group(2)
            cur[key] = float(val) if "." in val else int(val)
    return stats, rate


def pcap_check(pcap_path, timeout=30):
    """tshark's verdict on a capture: packet count, malformed frames and expert-info counts.

    Returns {'packets', 'malformed', 'errors', 'warnings', 'notes', 'expert'} where the last
    is tshark's `-z expert` text (for the failure message).
    """
    def tshark(*args):
        return _cmd(["tshark", "-n", "-r", str(pcap_path), *args], timeout=timeout, check=False).stdout

    frames = tshark("-T", "fields", "-e", "frame.number").split()
    malformed = tshark("-Y", "_ws.malformed", "-T", "fields", "-e", "frame.number").split()
    expert = tshark("-q", "-z", "expert")
    counts = {"Errors": 0, "Warnings": 0, "Notes": 0}
    section = None
    for line in expert.splitlines():
        m = re.match(r"^(Errors|Warnings|Notes|Chats) \(\d+\)", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^\s+(\d+)\s+\S", line)  # frequency column of a summary row
        if section in counts and m:
            counts[section] += int(m.group(1))
    return {"packets": len(frames), "malformed": len(malformed), "errors": counts["Errors"],
            "warnings": counts["Warnings"], "notes": counts["Notes"], "expert": expert}


# ---------------------------------------------------------------- the lab

class Lab:
    """Server namespace with a bridge; clients hang off it by veth pairs. Context manager."""

    def __init__(self, server_address="192.168.4.1/24", bridge="br0", tag=None):
        self.server_address = server_address
        self.server_ip = str(ipaddress.ip_interface(server_address).ip)
        self.bridge = bridge
        # tag (letters) lets one process run several labs at once; names must stay <= 15 chars
        self.prefix = "%s%d%s" % (PREFIX, os.getpid(), tag or "")
        self.server_ns = self.prefix + "s"
        self.namespaces = []
        self.clients = []
        self.procs = []
        self.tmp = None
        self._seq = 0
        self._lock = threading.Lock()
        self._closed = True
        self._nclients = 0
        self._dhclient_script = {}  # client ns -> script, so `dhclient -r` runs the same one
        self._perf_client = None

    # -- lifecycle

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def open(self):
        self._closed = False
        atexit.register(self.close)
        self._trap_sigterm()
        cleanup_stale()  # leftovers of SIGKILLed runs would otherwise pile up
        self.tmp = Path(tempfile.mkdtemp(prefix=self.prefix + "-"))
        try:
            self._make_server_ns()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Stop our processes, delete every namespace we made, remove the temp dir. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for p in self.procs:
            p.stop(signal.SIGTERM, timeout=2)
        # clients first: their veth ends vanish with them, then the bridge goes with the server ns
        for ns in reversed(self.namespaces):
            _delete_ns(ns)
        self.namespaces = []
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        atexit.unregister(self.close)

    @staticmethod
    def _trap_sigterm():
        """Turn SIGTERM into SystemExit so __exit__/atexit clean up (default SIGTERM skips both).
        And SIGINT not ignored: a shell without job control starts `cmd &` with SIGINT ignored,
        and what the lab starts would inherit that through exec (a handler is reset to the
        default there, an ignored signal stays ignored); CPython then keeps it ignored, so a
        host command stopped with SIGINT as on Ctrl-C (the lab's stop) would run on until
        killed. Found when the suite was started in the background."""
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
            if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
                signal.signal(signal.SIGINT, signal.default_int_handler)

    def _new_ns(self, ns):
        _cmd(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        _cmd(["ip", "-n", ns, "link", "set", "lo", "up"])
        # No IPv6: keeps captures to DHCPv4 and stops dhcpcd/nmap from wandering off to v6.
        self.run(ns, ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                      "net.ipv6.conf.default.disable_ipv6=1"], check=True)

    def _make_server_ns(self):
        ns, br = self.server_ns, self.bridge
        self._new_ns(ns)
        # Fixed MAC: a bridge otherwise takes the lowest port MAC and changes it as clients join.
        _cmd(["ip", "-n", ns, "link", "add", br, "address", "02:6d:64:00:00:01", "type", "bridge",
              "stp_state", "0", "forward_delay", "0"])
        _cmd(["ip", "-n", ns, "addr", "add", self.server_address, "dev", br])
        _cmd(["ip", "-n", ns, "link", "set", br, "up"])
        self._tx_csum_off(ns, br)
        # Without a route, sendto(255.255.255.255) fails with ENETUNREACH.
        _cmd(["ip", "-n", ns, "route", "add", "default", "dev", br])

    def _tx_csum_off(self, ns, ifname):
        # veth leaves UDP checksums partial (offloaded); raw-socket clients (udhcpc, dhclient)
        # then drop the frames as corrupt. Computing checksums in software avoids that.
        self.run(ns, ["ethtool", "-K", ifname, "tx", "off"], check=True)

    def _next(self):
        with self._lock:
            self._seq += 1
            return self._seq

    # -- clients

    def add_client(self, mac=None, name=None):
        """New namespace joined to the bridge by a veth pair. Returns a Client."""
        with self._lock:
            self._nclients += 1
            n = self._nclients
        ns = "%sc%d" % (self.prefix, n)
        if len(ns) > IFNAMSIZ:
            raise ValueError("namespace/interface name too long: " + ns)
        # The client interface is named like its namespace, so it is unique host-wide: dhcpcd
        # and dhclient keep per-interface files that would clash across parallel labs otherwise.
        ifname, peer = ns, "v%d" % n
        mac = mac or "02:00:00:00:%02x:%02x" % (n >> 8 & 0xFF, n & 0xFF)
        self._new_ns(ns)
        _cmd(["ip", "-n", self.server_ns, "link", "add", peer, "type", "veth",
              "peer", "name", ifname, "address", mac, "netns", ns])
        _cmd(["ip", "-n", self.server_ns, "link", "set", peer, "master", self.bridge, "up"])
        _cmd(["ip", "-n", ns, "link", "set", ifname, "up"])
        self._tx_csum_off(self.server_ns, peer)
        self._tx_csum_off(ns, ifname)
        c = Client(ns=ns, ifname=ifname, mac=mac, name=name or "c%d" % n, peer=peer)
        self.clients.append(c)
        return c

    def add_host_address(self, client, cidr):
        """Static address on a client (ARP-conflict and DECLINE tests, perfdhcp relay address)."""
        _cmd(["ip", "-n", client.ns, "addr", "add", cidr, "dev", client.ifname])
        client.addresses.append(cidr)

    def del_host_address(self, client, cidr):
        _cmd(["ip", "-n", client.ns, "addr", "del", cidr, "dev", client.ifname], check=False)
        if cidr in client.addresses:
            client.addresses.remove(cidr)

    def add_server_host(self, cidr, name="server2"):
        """Another host on the bridge with a static address and a broadcast route, for a second
        DHCP server on the same segment: start_server(..., ns=host.ns) with --iface host.ifname.
        """
        host = self.add_client(name=name)
        self.add_host_address(host, cidr)
        # Like the server namespace: without a route, sendto(255.255.255.255) is ENETUNREACH.
        _cmd(["ip", "-n", host.ns, "route", "add", "default", "dev", host.ifname])
        return host

    def client_addresses(self, client):
        """IPv4 addresses currently on the client interface, as 'a.b.c.d/len' strings."""
        out = _cmd(["ip", "-n", client.ns, "-4", "-o", "addr", "show", "dev", client.ifname]).stdout
        return re.findall(r"inet (\S+)", out)

    # -- running things

    def run(self, ns, argv, timeout=10, env=None, check=False):
        """Run argv in ns, bounded. Returns CompletedProcess with text stdout/stderr.

        On timeout the process is killed and returncode is None (no exception), so helpers can
        still parse what it printed. Output goes through files, not pipes: a daemon that forks
        (dhcpcd's privsep helpers) would hold a pipe open and make the wait outlast the timeout.
        """
        n = self._next()
        out_path, err_path = self.tmp / ("run%d.out" % n), self.tmp / ("run%d.err" % n)
        full = ["ip", "netns", "exec", ns, *map(str, argv)]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                rc = subprocess.run(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    timeout=timeout, env=env).returncode
            except subprocess.TimeoutExpired:
                rc = None
        cp = subprocess.CompletedProcess(full, rc, _read(out_path), _read(err_path))
        out_path.unlink()
        err_path.unlink()
        if rc is None:
            cp.stderr += "\n[lab] timed out after %ss: %s\n" % (timeout, " ".join(full))
        if check and rc != 0:
            raise RuntimeError("%s failed (%s): %s" % (" ".join(full), rc, cp.stderr.strip()))
        return cp

    def spawn(self, ns, argv, log_path=None, env=None, pid_timeout=5.0, private_run=False,
              private_dirs=()):
        """Start a long-running argv in ns with stdout+stderr to log_path; returns a Proc.

        `ip netns exec ... &` gives the pid of ip, not of the command, so a shell writes its own
        pid ($$) and then execs the command in place: the recorded pid is the command's.
        private_run: mount an empty tmpfs on /run for this process only (ip netns exec already
        gives it a private, slave mount namespace, so nothing shows on the host); for daemons
        that keep host-wide lock files in /run. private_dirs: more directories to hide the
        same way (e.g. dhcpcd's /var/lib/dhcpcd state), each an empty private tmpfs.
        """
        n = self._next()
        log_path = Path(log_path or self.tmp / ("proc%d.log" % n))
        pidfile = self.tmp / ("proc%d.pid" % n)
        shell = 'echo $$ > "$0"; exec "$@"'
        if private_run:
            shell = "mount -t tmpfs -o size=4m,mode=0755 mdl-run /run || exit 97; " + shell
        for d in reversed([str(d) for d in private_dirs]):
            if not re.match(r"^/[A-Za-z0-9_./-]+$", d):
                raise ValueError("private_dirs: plain absolute paths only: %r" % d)
            shell = "mount -t tmpfs -o size=4m,mode=0755 mdl-priv %s || exit 97; %s" % (d, shell)
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", shell, str(pidfile),
                                      *map(str, argv)], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        pid = self._read_pidfile(pidfile, popen, pid_timeout)
        proc = Proc(popen, pid, log_path, list(argv))
        self.procs.append(proc)
        return proc

    @staticmethod
    def _read_pidfile(pidfile, popen, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = pidfile.read_text().strip()
                if text:
                    return int(text)
            except FileNotFoundError:
                pass
            if popen.poll() is not None:
                break
            time.sleep(0.01)
        # ip netns exec execs in place, so popen.pid is the command's pid as a fallback
        return popen.pid

    # -- the server under test

    def default_server_args(self, lease=120, extra=()):
        """A microdhcp command line matching this lab's bridge and address."""
        net = ipaddress.ip_interface(self.server_address).network
        last = net[249] if net.num_addresses >= 256 else net[-2]
        return ["--iface", self.bridge, "--address", self.server_address,
                "--pool", "%s-%s" % (net[2], last), "--lease", str(lease),
                "--router", self.server_ip, "--dns", self.server_ip, *extra]

    def start_server(self, argv_tail, runtime="micropython", log_path=None, env=None, ns=None):
        """Start `RUNTIME -m microdhcp ARGV_TAIL` in the server namespace; returns a Proc.

        Readiness: proc.wait_for("serving"). Runtime "micropython" uses MICROPYPATH, "cpython"
        uses PYTHONPATH, both pointing at this checkout's firmware/ directory.
        ns: another namespace (a second server on the segment, see add_server_host).
        """
        env = dict(os.environ if env is None else env)
        if runtime == "micropython":
            exe = shutil.which("micropython")
            env["MICROPYPATH"] = "%s:.frozen:%s" % (FIRMWARE, env.get("MICROPYPATH", "~/.micropython/lib"))
        elif runtime == "cpython":
            exe = sys.executable or shutil.which("python3")
            # Any PYTHONPATH the caller gave (e.g. build/pylib for microdot) stays after firmware/.
            env["PYTHONPATH"] = os.pathsep.join([str(FIRMWARE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
            env["PYTHONUNBUFFERED"] = "1"
        else:
            raise ValueError("runtime must be 'micropython' or 'cpython'")
        if not exe:
            raise FileNotFoundError(runtime)
        return self.spawn(ns or self.server_ns, [exe, "-m", "microdhcp", *argv_tail], log_path, env)

    def start_dnsmasq(self, first="192.168.4.2", last="192.168.4.249", lease="2m", extra=(), quiet=False):
        """dnsmasq as a stand-in DHCP server (selftest; reference and benchmark runs): DHCP only
        (--port=0), no ping, authoritative, bound to the bridge, lease file in the lab's temp dir.
        lease: seconds or a dnsmasq duration ("2m"). quiet: no per-packet log lines (the
        benchmarks, tools/benchlab.py), else every DHCP step is logged (--log-dhcp). Returns a
        Proc; ready when its log says 'DHCP, IP range'."""
        leases = self.tmp / "dnsmasq.leases"
        argv = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-ping", "--port=0",
                "--interface=" + self.bridge, "--bind-interfaces",
                "--dhcp-range=%s,%s,%s" % (first, last, lease), "--dhcp-leasefile=%s" % leases,
                "--pid-file=" + str(self.tmp / "dnsmasq.pid"),
                "--quiet-dhcp" if quiet else "--log-dhcp", "--log-facility=-",
                "--dhcp-option=option:router,%s" % self.server_ip,
                "--dhcp-option=option:dns-server,%s" % self.server_ip,
                "--domain=lab.test", "--dhcp-authoritative", *extra]
        return self.spawn(self.server_ns, argv)

    # -- real DHCP clients (each bounded; each returns a LeaseResult)

    def _script(self, tag):
        """Write a dump script for one client run; returns (script path, dump path)."""
        n = self._next()
        dump = self.tmp / ("%s%d.env" % (tag, n))
        script = self.tmp / ("%s%d.sh" % (tag, n))
        script.write_text(_DUMP_SCRIPT % {"dump": dump})
        script.chmod(0o755)
        return script, dump

    def udhcpc(self, client, extra_args=(), timeout=15):
        """busybox udhcpc: DORA, configure the address, quit (-q). Does not release.

        -R does nothing here: busybox 1.35 with -q quits before it counts as BOUND, so it
        prints "entering released state" without sending a RELEASE. To release, use
        udhcpc_spawn(client, ["-R"]) and stop it with SIGTERM (or send SIGUSR2).
        """
        script, dump = self._script("udhcpc")
        argv = ["busybox", "udhcpc", "-f", "-q", "-n", "-i", client.ifname, "-t", "3", "-T", "1",
                "-s", script, *extra_args]
        cp = self.run(client.ns, argv, timeout=timeout)
        res = LeaseResult("udhcpc", output=cp.stdout + cp.stderr, returncode=cp.returncode)
        for event, env in _parse_dump(_read(dump)):
            if event in ("bound", "renew"):
                _lease_from_udhcpc(event, env, res)
        return res

    def _dhclient_files(self, client):
        base = self.tmp / ("dhclient-" + client.ns)
        conf = Path(str(base) + ".conf")
        if not conf.exists():
            # Our own config: the host's /etc/dhcp/dhclient.conf may carry site settings, and
            # the default 60 s timeout is too long for a test (-1 gives up after `timeout`).
            conf.write_text("timeout 10;\nretry 1;\ninitial-interval 1;\n"
                            "request subnet-mask, broadcast-address, routers, domain-name,\n"
                            "        domain-name-servers, host-name, interface-mtu;\n")
        return {"-lf": Path(str(base) + ".leases"), "-pf": Path(str(base) + ".pid"), "-cf": conf}

    def dhclient(self, client, extra_args=(), timeout=20, release=True):
        """ISC dhclient -4 -1 -d: DORA, then `dhclient -r` (RELEASE) unless release=False.

        With release=False the foreground dhclient keeps running (and renewing); the result
        gets a .proc attribute, and dhclient_release(client) ends it with a RELEASE.
        """
        script, dump = self._script("dhclient")
        files = self._dhclient_files(client)
        self._dhclient_script[client.ns] = script
        argv = ["dhclient", "-4", "-1", "-d", "-sf", script, *_flat(files), *extra_args,
                client.ifname]
        proc = self.spawn(client.ns, argv)
        res = LeaseResult("dhclient")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.alive():  # -1: it exits 2 when it gives up
            if any(ev in ("BOUND", "REBOOT") for ev, _ in _parse_dump(_read(dump))):
                break
            time.sleep(0.05)
        for event, env in _parse_dump(_read(dump)):
            if event in ("BOUND", "REBOOT", "RENEW", "REBIND"):
                _lease_from_isc_style(event, env, res)
        if release or not res.ok:
            if res.ok:
                self.dhclient_release(client)
            proc.stop(signal.SIGTERM, timeout=3)
            res.returncode = proc.popen.poll()
        else:
            res.proc = proc
        res.output = proc.output()
        return res

    def dhclient_release(self, client, timeout=10):
        """`dhclient -r`: kills the running dhclient via its pidfile and sends DHCPRELEASE."""
        script = self._dhclient_script.get(client.ns) or self._script("dhclient")[0]
        argv = ["dhclient", "-4", "-r", "-sf", script, *_flat(self._dhclient_files(client)),
                client.ifname]
        return self.run(client.ns, argv, timeout=timeout)

    def dhcpcd(self, client, extra_args=(), timeout=20):
        """dhcpcd -4 -T (test mode): DISCOVER/OFFER only; the result is the OFFER's contents.

        Quirks (dhcpcd 9.4.1 with PRIVSEP, Debian 12):
        - -T never sends a REQUEST, so the server leases nothing and the interface is left
          untouched; it runs the script once with reason=TEST (our -c dump script, instead of
          dhcpcd-run-hooks).
        - After the TEST script the main process dies (SIGSEGV here) and its privsep helpers
          ("privileged proxy", "BPF BOOTP") are orphaned and keep running; so it is spawned,
          its dump file polled, and every dhcpcd process left in the namespace killed.
        - -T locks the pidfile "/run/.pid" (the netns/interface parts of the name are empty in
          test mode), one host-wide lock: a second concurrent dhcpcd -T (parallel labs) fails
          with "pidfile_lock: File exists". Each run gets a private tmpfs /run (spawn
          private_run), which also keeps its control socket off the host.
        - Own -f config: /etc/dhcpcd.conf has `duid`/`persistent` (state in /var/lib/dhcpcd);
          `clientid` sends the MAC-based client id as most IoT stacks do; `nodelay` skips the
          random 0-2 s start delay; -4 keeps it off IPv6; noipv4ll stops a 169.254 fallback.
          It still reads /var/lib/dhcpcd/IF.lease (absent: IF is unique to this lab).
        """
        return self._dhcpcd(client, ["-T"], "", "TEST", (), extra_args, timeout)

    def _dhcpcd(self, client, mode, conf_extra, event_name, private_dirs, extra_args, timeout,
                exit_line=None):
        """One dhcpcd run with our own config and a private /run; waits for the script event
        event_name, stops dhcpcd and the privsep helpers it leaves behind, parses the lease."""
        script, dump = self._script("dhcpcd")
        conf = self.tmp / ("dhcpcd-%s-%s.conf" % (client.ns, event_name.lower()))
        conf.write_text("clientid\nnodelay\nnoipv4ll\n%s"
                        "option domain_name_servers, domain_name, host_name\n"
                        "require dhcp_server_identifier\n" % conf_extra)
        argv = ["dhcpcd", "-4", *mode, "-f", conf, "-c", script, "-t", str(max(1, timeout - 2)),
                *extra_args, client.ifname]
        proc = self.spawn(client.ns, argv, private_run=True, private_dirs=private_dirs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.alive():
            if any(ev == event_name for ev, _ in _parse_dump(_read(dump))):
                break
            time.sleep(0.05)
        if exit_line:
            proc.wait_for(exit_line, 2)
        proc.stop(signal.SIGTERM, timeout=2)
        _kill_ns_processes(client.ns, comm="dhcpcd")
        res = LeaseResult("dhcpcd", output=proc.output(), returncode=proc.popen.poll())
        for event, env in _parse_dump(_read(dump)):
            if event == event_name and env.get("new_ip_address"):
                _lease_from_isc_style(event, env, res)
        return res

    def dhcpcd_lease(self, client, extra_args=(), timeout=20, arp=False):
        """dhcpcd -4 -1 -B: a full DORA (oneshot: exits once bound); the result is the ACK.

        Unlike -T this leases and configures the address. Same own -f config as dhcpcd() plus
        `noarp` unless arp=True (its RFC 5227 probe adds seconds and is not what is under
        test). Private tmpfs /run (pidfile and control socket, see dhcpcd()) and private
        /var/lib/dhcpcd (the lease and DUID files it writes there stay out of the host's).
        On exit its privsep helpers are left behind as in -T mode; any still running in the
        namespace are killed.
        """
        return self._dhcpcd(client, ["-1", "-B"], "" if arp else "noarp\n", "BOUND", ("/var/lib/dhcpcd",),
                            extra_args, timeout, exit_line=r"exiting due to oneshot")

    def udhcpc_spawn(self, client, extra_args=()):
        """busybox udhcpc left running in the foreground (no -q): it binds, configures the
        address and then renews on SIGUSR1, releases on SIGUSR2. Returns the Proc with a .dump
        attribute; dump_events(proc.dump) lists the script events so far.
        """
        script, dump = self._script("udhcpc")
        argv = ["busybox", "udhcpc", "-f", "-i", client.ifname, "-t", "3", "-T", "1",
                "-s", script, *extra_args]
        proc = self.spawn(client.ns, argv)
        proc.dump = dump
        return proc

    @staticmethod
    def dump_events(dump):
        """[(event, env)] a client script recorded in dump (udhcpc_spawn's proc.dump)."""
        return _parse_dump(_read(dump))

    @staticmethod
    def udhcpc_lease(event, env):
        """LeaseResult from one udhcpc script event (bound/renew) of dump_events."""
        return _lease_from_udhcpc(event, env, LeaseResult("udhcpc"))

    def dhclient_write_lease(self, client, ip, server_id, router=None, mask="255.255.255.0",
                             lease_time=3600):
        """Put one unexpired lease into the client's dhclient lease file (-lf), as if it had
        been bound elsewhere: the next dhclient run starts in INIT-REBOOT asking for ip.
        """
        files = self._dhclient_files(client)
        t = time.gmtime(time.time() + lease_time)
        when = "%d %s" % ((t.tm_wday + 1) % 7, time.strftime("%Y/%m/%d %H:%M:%S", t))
        text = ("lease {\n  interface \"%s\";\n  fixed-address %s;\n"
                "  option subnet-mask %s;\n" % (client.ifname, ip, mask))
        if router:
            text += "  option routers %s;\n" % router
        text += ("  option dhcp-lease-time %d;\n  option dhcp-message-type 5;\n"
                 "  option dhcp-server-identifier %s;\n"
                 "  renew %s;\n  rebind %s;\n  expire %s;\n}\n"
                 % (lease_time, server_id, when, when, when))
        files["-lf"].write_text(text)
        return files["-lf"]

    def nmap_discover(self, client, timeout=20, probe_timeout=5, chaddr=None):
        """nmap broadcast-dhcp-discover: one DISCOVER, no REQUEST; parses the first OFFER.

        chaddr defaults to the client's MAC (nmap's own default is a fixed DE:AD:C0:DE:CA:FE;
        "random" is accepted too). The Ethernet source is always the interface MAC.
        """
        # nmap 7.93 looks the -e interface up by IPv4 address (get_interface_info returns
        # false without one and the script dies: "attempt to index a boolean value"). A
        # link-local /32 outside the DHCP subnet satisfies it; the DISCOVER still goes out
        # from 0.0.0.0. Removed again afterwards.
        dummy = None
        if not self.client_addresses(client):
            dummy = "169.254.%d.%d/32" % (client.mac_bytes()[4] or 1, client.mac_bytes()[5] or 1)
            self.add_host_address(client, dummy)
        argv = ["nmap", "-n", "-e", client.ifname, "--script", "broadcast-dhcp-discover",
                "--script-args", "broadcast-dhcp-discover.timeout=%ds,broadcast-dhcp-discover.mac=%s"
                % (probe_timeout, chaddr or client.mac)]
        cp = self.run(client.ns, argv, timeout=timeout)
        if dummy:
            self.del_host_address(client, dummy)
        res = LeaseResult("nmap", output=cp.stdout + cp.stderr, returncode=cp.returncode)
        return _parse_nmap(res.output, res)

    def perfdhcp(self, rate=100, duration=5, num_clients=1000, client=None,
                 address=None, extra_args=(), timeout=None):
        """perfdhcp against the server: returns PerfResult (stats['DO'/'RA'] sent/received/drops).

        perfdhcp needs an address and then acts as a relay (giaddr = that address, hops 1,
        listens on 67), so it gets a namespace with a static address (default: .250 of the
        server's subnet). Unless `client` is given, that namespace is made here and reused.
        """
        if client is None:
            client = self._perf_client
            if client is None:
                iface = ipaddress.ip_interface(self.server_address)
                address = address or "%s/%d" % (iface.network[250], iface.network.prefixlen)
                client = self._perf_client = self.add_client(name="perfdhcp")
                self.add_host_address(client, address)
        argv = ["perfdhcp", "-4", "-l", client.ifname, "-r", rate, "-R", num_clients,
                "-p", duration, *extra_args, self.server_ip]
        timeout = timeout or duration + 20
        cp = self.run(client.ns, argv, timeout=timeout)
        out = cp.stdout + cp.stderr
        stats, measured = _parse_perfdhcp(out)
        return PerfResult(stats, measured, out, cp.returncode)

    # -- packet capture

    def capture(self, ns, iface, pcap_path, wait=5.0):
        """tcpdump on UDP 67/68 to pcap_path. Stop with proc.stop() (SIGINT) before reading.

        --immediate-mode: otherwise TPACKET_V3 hands packets over in blocks every ~1 s and a
        stop within that second loses them ("received by filter" but not captured). -U writes
        each packet to the file as it arrives.
        """
        proc = self.spawn(ns, ["tcpdump", "-i", iface, "-n", "--immediate-mode", "-U",
                               "-w", pcap_path,
                               "udp", "port", "67", "or", "udp", "port", "68"])
        proc.wait_for(r"listening on", wait)  # capture armed before traffic starts
        return proc


def _flat(d):
    return [str(x) for kv in d.items() for x in kv]


def _read(path):
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------- CLI

def _cli_up(n):
    """Build a lab that outlives this process (for poking by hand); `down` removes it."""
    lab = Lab()
    lab.open()
    clients = [lab.add_client() for _ in range(n)]
    atexit.unregister(lab.close)  # keep it: namespace names do not carry a live pid now
    shutil.rmtree(lab.tmp, ignore_errors=True)
    names = [lab.server_ns] + [c.ns for c in clients]
    with open(_STATE, "a") as f:  # append: several `up` labs may coexist until `down`
        f.write("\n".join(names) + "\n")
    print("server ns %s (%s on %s)" % (lab.server_ns, lab.server_address, lab.bridge))
    for c in clients:
        print("client ns %s if %s mac %s" % (c.ns, c.ifname, c.mac))
    print("e.g. ip netns exec %s busybox udhcpc -f -q -i %s" % (clients[0].ns, clients[0].ifname)
          if clients else "")
    return 0


def _cli_down():
    names = _STATE.read_text().split() if _STATE.exists() else []
    for ns in reversed(names):
        _delete_ns(ns)
    _STATE.unlink(missing_ok=True)
    print("removed %d namespaces" % len(names))
    return 0


def _cli_cleanup():
    removed = cleanup_stale()
    print("\n".join(removed) or "nothing stale")
    return 0


def selftest():
    """Prove the lab with dnsmasq as the server and every client helper. Exit 0 iff all lease."""
    results = []
    with Lab() as lab:
        pcap = lab.tmp / "selftest.pcap"
        cap = lab.capture(lab.server_ns, lab.bridge, pcap)
        srv = lab.start_dnsmasq()
        if not srv.wait_for(r"DHCP, IP range", 10):
            print("dnsmasq did not start:\n" + srv.output())
            return 1
        runs = [("udhcpc", lab.udhcpc), ("dhclient", lab.dhclient), ("dhcpcd", lab.dhcpcd),
                ("nmap", lab.nmap_discover)]
        for name, fn in runs:
            c = lab.add_client()
            t0 = time.monotonic()
            r = fn(c)
            results.append(r)
            print("%-9s %-17s %-15s router=%s dns=%s domain=%s lease=%s sid=%s (%.1fs)" % (
                name, c.mac, r.ip, r.router, ",".join(r.dns), r.domain, r.lease_time,
                r.server_id, time.monotonic() - t0))
            if not r.ok:
                print("  --- %s output ---\n%s" % (name, r.output.strip()[-2000:]))
        perf = lab.perfdhcp(rate=50, duration=2, num_clients=50)
        print("perfdhcp  DO %s  RA %s" % (_perf_line(perf.stats.get("DO")),
                                          _perf_line(perf.stats.get("RA"))))
        cap.stop()
        srv.stop(signal.SIGTERM)
        check = pcap_check(pcap)
        print("capture   %(packets)d packets, %(malformed)d malformed, %(errors)d expert errors"
              % check)
        acked = len(re.findall(r"DHCPACK", srv.output()))
        print("dnsmasq   %d DHCPACK lines" % acked)
    perf_ok = all(perf.stats.get(k, {}).get("received_packets", 0) > 0 for k in ("DO", "RA"))
    ok = all(r.ok for r in results) and perf_ok and check["malformed"] == 0
    print("selftest", "PASS" if ok else "FAIL")
    return 0 if ok else 1


def _perf_line(s):
    if not s:
        return "-"
    return "sent=%s recv=%s drops=%s" % (s.get("sent_packets"), s.get("received_packets"),
                                         s.get("drops"))


def main(argv):
    if os.geteuid() != 0:
        print("lab.py needs root (network namespaces)", file=sys.stderr)
        return 2
    cmd = argv[1] if len(argv) > 1 else "help"
    if cmd == "up":
        return _cli_up(int(argv[2]) if len(argv) > 2 else 1)
    if cmd == "down":
        return _cli_down()
    if cmd == "cleanup":
        return _cli_cleanup()
    if cmd == "selftest":
        cleanup_stale()
        return selftest()
    print(__doc__.strip().splitlines()[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
