# microdhcp host command, the same on both runtimes:
#   MICROPYPATH=firmware micropython -m microdhcp --iface br0 --address 192.168.4.1/24 ...
#   PYTHONPATH=firmware python3 -m microdhcp --iface br0 --address 192.168.4.1/24 ...
# (no argparse: the MicroPython unix port has none, so flags are parsed here.)
import sys
from microdhcp.status import EventLog, event_line

USAGE = """usage: microdhcp --address IP/PREFIX [options]
       microdhcp probe|client|swarm --iface IF ...   (the client side: docs/client.md)
  --iface IF              serve only this interface (SO_BINDTODEVICE)
  --address IP/PREFIX     server address and subnet, e.g. 192.168.4.1/24 (required)
  --pool FIRST-LAST       address pool, e.g. 192.168.4.2-192.168.4.249
  --lease SECONDS         lease time (default 3600)
  --router IP             router option (3)
  --dns IP[,IP]           DNS servers (6)
  --domain NAME           domain name (15)
  --search NAME[,NAME]    domain search list (119)
  --ntp IP[,IP]           NTP servers (42)
  --mtu BYTES             interface MTU (26)
  --route NET/N=GW        classless static route (121), repeatable
  --captive-portal URL    captive-portal URI (114)
  --option CODE=HEX       raw option, repeatable
  --reserve MAC=IP        static lease by MAC (or id:HEX=IP by client id), repeatable
  --broadcast IP          where broadcast replies go (default 255.255.255.255)
  --offer-hold SECONDS    how long an offer is held (default 30)
  --decline-hold SECONDS  how long a declined address is kept out (default 600)
  --rapid-commit          allow rapid commit (RFC 4039)
  --known-clients-only    serve only reserved clients
  --not-authoritative     stay silent for unknown clients' INIT-REBOOT/RENEW
  --leases-file PATH      keep leases in PATH across restarts
  --exit-after SECONDS    stop after this many seconds (tests)
  --quiet                 no per-event lines
  --portal                captive portal: DNS answers every name with this server, HTTP on port
                          80 (or --http) sends every OS's probe to the portal page; option 114
                          is set to the RFC 8908 API URI unless --captive-portal names another
  --names                 DNS for leased hostnames (option 12), bare and under --domain
  --http PORT             the status page (/status) on PORT, without --portal too
  --dns-name NAME         the server's own DNS name (default microdhcp)
(--portal and --names set the DNS option (6) to this server unless --dns is given.)
Prints one line per lease event; on Ctrl-C (SIGINT) prints the lease table and exits 0."""

_VALUED = ("--iface", "--address", "--pool", "--lease", "--router", "--dns", "--domain", "--search", "--ntp",
           "--mtu", "--route", "--captive-portal", "--option", "--reserve", "--broadcast", "--offer-hold",
           "--decline-hold", "--leases-file", "--exit-after", "--http", "--dns-name")
_REPEATED = ("--route", "--option", "--reserve")
_FLAGS = ("--rapid-commit", "--known-clients-only", "--not-authoritative", "--quiet", "--portal", "--names")


class UsageError(Exception):
    pass


_events = None     # the event log once serving; _out writes what it holds first (order kept)
_EVENT_BATCH = 4096  # bytes of event lines held between polls (status.EventLog)


def _out(line):
    if _events is not None:
        _events.flush()
    sys.stdout.write(line + "\n")
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()


def parse_args(argv):
    opts = {}  # type: dict
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            raise UsageError("")
        v = None
        if "=" in a and a.startswith("--") and a.split("=", 1)[0] in _VALUED:
            a, v = a.split("=", 1)
        if a in _FLAGS:
            opts[a] = True
        elif a in _VALUED:
            if v is None:
                i += 1
                if i >= len(argv):
                    raise UsageError("%s needs a value" % a)
                v = argv[i]
            if a in _REPEATED:
                opts.setdefault(a, []).append(v)
            elif a in opts:
                raise UsageError("%s given twice" % a)
            else:
                opts[a] = v
        else:
            raise UsageError("unknown argument %r" % a)
        i += 1
    if "--address" not in opts:
        raise UsageError("--address is required")
    return opts


def _int(opts, name, default=None):
    v = opts.get(name)
    if v is None:
        return default
    if not v.isdigit():
        raise UsageError("%s %r is not a whole number" % (name, v))
    return int(v)


def _pair(text, name):
    if "=" not in text:
        raise UsageError("%s %r must be written LEFT=RIGHT" % (name, text))
    return text.rsplit("=", 1)


def build_config(opts):
    from microdhcp.config import Config
    raw = {}
    for item in opts.get("--option", []):
        code, value = _pair(item, "--option")
        if not code.isdigit():
            raise UsageError("--option code %r is not a number" % code)
        raw[int(code)] = value
    kit_opts(opts)
    return Config(
        address=opts["--address"],
        pool=opts.get("--pool"),
        lease_time=_int(opts, "--lease", 3600),
        routers=opts.get("--router"),
        dns=opts.get("--dns"),
        domain=opts.get("--domain"),
        domain_search=opts.get("--search"),
        ntp=opts.get("--ntp"),
        mtu=_int(opts, "--mtu"),
        routes=[_pair(r, "--route") for r in opts.get("--route", [])],
        captive_portal=opts.get("--captive-portal"),
        raw_options=raw,
        reservations=[_pair(r, "--reserve") for r in opts.get("--reserve", [])],
        reply_broadcast=opts.get("--broadcast", "255.255.255.255"),
        offer_hold=_int(opts, "--offer-hold", 30),
        decline_hold=_int(opts, "--decline-hold", 600),
        rapid_commit=opts.get("--rapid-commit", False),
        known_clients_only=opts.get("--known-clients-only", False),
        authoritative=not opts.get("--not-authoritative", False),
    )


def kit_opts(opts):
    # --portal / --names: clients must ask this server for names (option 6), and with --portal
    # find the captive-portal API (option 114, RFC 8910) at our HTTP server.
    if "--http" in opts:
        _int(opts, "--http")
    if not (opts.get("--portal") or opts.get("--names")):
        return
    ip = opts["--address"].split("/")[0]
    if "--dns" not in opts:
        opts["--dns"] = ip
    if opts.get("--portal") and "--captive-portal" not in opts:
        port = _int(opts, "--http", 80)
        opts["--captive-portal"] = "http://%s%s/api/captive" % (ip, "" if port == 80 else ":%d" % port)


def _kit(opts, cfg, engine, server, clock, iface, until):
    # DHCP + DNS + HTTP on one asyncio loop (microdhcp.kit).
    from microdhcp import kit
    from microdhcp.ipv4 import fmt_ip
    dns_server = None
    if opts.get("--portal") or opts.get("--names"):
        from microdhcp import dns
        from microdhcp.dnsserver import DnsServer
        mode = dns.CAPTIVE if opts.get("--portal") else dns.NAMES
        responder = dns.Responder(mode, cfg.server, engine=engine, domain=opts.get("--domain"),
                                  own_name=opts.get("--dns-name", "microdhcp"))
        try:
            dns_server = DnsServer(responder, iface=iface, log=_out)
        except OSError as e:
            # DHCP goes on without DNS rather than not at all; said once, loudly.
            from microdhcp.errors import describe
            sys.stderr.write("microdhcp: no DNS: cannot open UDP port 53: %s\n" % describe(e, iface=iface))
    web = None
    port = _int(opts, "--http", 80)
    if opts.get("--portal") or "--http" in opts:
        from microdhcp.web import Portal
        web = Portal(engine, fmt_ip(cfg.server), captive=bool(opts.get("--portal")), clock=clock,
                     dns=dns_server, dhcp=server, port=port)
    _out("microdhcp: kit: dns %s, http %s" % (
        ("captive" if opts.get("--portal") else "names") if dns_server else "off",
        ("port %d" % port) if web else "off"))
    try:
        kit.run(server, dns_server, web, port, until, clock, _out)
    finally:
        if dns_server is not None:
            dns_server.close()
        if web is not None and web.credentials is not None:
            _out("microdhcp: portal received credentials for %r" % (web.credentials[0],))


def run(argv):
    try:
        opts = parse_args(argv)
        cfg = build_config(opts)
    except UsageError as e:
        if str(e):
            sys.stderr.write("microdhcp: %s\n" % e)
        sys.stderr.write(USAGE + "\n")
        return 2 if str(e) else 0
    except ValueError as e:
        sys.stderr.write("microdhcp: bad configuration: %s\n" % e)
        return 2

    from microdhcp.engine import Engine
    from microdhcp.net import Server, PortInUse
    from microdhcp.clock import Clock
    from microdhcp import status
    from microdhcp.errors import describe

    iface = opts.get("--iface")
    clock = Clock()
    engine = Engine(cfg)
    quiet = opts.get("--quiet", False)
    global _events
    if not quiet:
        _events = event_log(engine, iface, clock, sys.stdout)
        engine.on_event = _events.event
    store = None
    path = opts.get("--leases-file")
    if path:
        from microdhcp.store import open_store
        store = open_store(path, engine, clock.now(), log=_out)
        if not store.persistent:
            # Asked for persistence and cannot have it: refuse, as dnsmasq and Kea do, rather
            # than serve leases that a restart would forget.
            _fail("cannot keep leases in %s: %s" % (path, store.problem), store)
            return 2
    try:
        server = Server(engine, iface=iface, clock=clock, log=_out)
    except PortInUse:
        _fail(_port_in_use(iface), store)
        return 2
    except OSError as e:
        _fail("cannot open UDP port 67%s: %s" % ((" on " + iface) if iface else "", describe(e, iface=iface)), store)
        return 2
    if _events is not None:
        server.idle = _events.flush     # after each poll, its replies sent
    _install_sigterm()
    _out("microdhcp: serving on %s, %s, pool %d addresses" % (iface or "all interfaces", cfg.subnet_text, cfg.pool_size))
    until = None
    if "--exit-after" in opts:
        until = clock.now() + _int(opts, "--exit-after")
    kit_wanted = opts.get("--portal") or opts.get("--names") or "--http" in opts
    try:
        if kit_wanted:
            _kit(opts, cfg, engine, server, clock, iface, until)
        else:
            server.serve_forever(until)
    except KeyboardInterrupt:
        pass
    finally:
        # every line held is written, whatever ended the loop (Ctrl-C, SIGTERM, --exit-after, an error)
        if _events is not None:
            _events.flush()
        server.close()
        if store is not None:
            store.close()
    now = clock.now()
    for line in status.lease_table(engine, now):
        _out(line)
    _out(status.counters_line(engine))
    _events = None
    return 0


def event_log(engine, iface, clock, out):
    """The default event lines (HostEventLog) to the text stream `out`, held up to
    _EVENT_BATCH bytes; the serve loop flushes them after each poll (Server.idle)."""
    return HostEventLog(engine, iface, _byte_writer(out), _EVENT_BATCH, clock)


class HostEventLog(EventLog):
    """status.EventLog for every kind of event, in order: OFFER, ACK and renewal lines built in
    place, the rare ones formatted by status.event_line and copied into the same buffer. Here and
    not in status: a board prints its rare lines, and status is frozen into every board."""

    def event(self, kind, slot):
        # an engine on_event callback
        if not self.write(kind, slot):
            c = self.clock
            self.text(event_line(self.engine, kind, slot, self.iface, c.now() if c is not None else 0))

    def text(self, line):
        # a formatted line (allocates), held after the lines before it
        data = line.encode() + b"\n"
        k = len(data)
        if self.n + k > len(self.buf):
            self.flush()
        if k > len(self.buf):
            self.write_out(data, k)
            return
        self.buf[self.n:self.n + k] = data
        self.n += k
        if self.n > self.batch:
            self.flush()


def _byte_writer(out):
    # write(buf, n): the first n bytes of buf to `out`. MicroPython: the stream write takes the
    # length itself (py/stream.c:275-303), no copy. CPython: through the text stream's binary
    # buffer, after whatever the text layer holds.
    if sys.implementation.name == "micropython":
        return out.write
    raw = getattr(out, "buffer", None)

    def write(b, n):
        out.flush()
        if raw is None:
            out.write(bytes(b[:n]).decode())
        else:
            raw.write(bytes(b[:n]))
            raw.flush()
    return write


def _fail(msg, store):
    sys.stderr.write("microdhcp: %s\n" % msg)
    if store is not None:
        store.close()


def _port_in_use(iface):
    who = _port_holders(67)
    return ("UDP port 67%s is already in use%s: another DHCP server is running in this network "
            "namespace, and two servers would both answer every client. Stop it, or give each "
            "server its own interface (--iface)." % ((" on " + iface) if iface else "",
                                                       (" by " + who) if who else " (`ss -ulpn 'sport = :67'` shows by what)"))


def _port_holders(port):
    # Linux only, best effort: the socket inodes bound to port in /proc/net/udp, then the
    # processes holding them (stat of /proc/PID/fd/N gives the socket's inode; MicroPython has
    # no readlink). Returns "name (pid N), ..." or "" when nothing can be found.
    import os
    inodes = []
    try:
        with open("/proc/net/udp") as f:
            for line in f:
                p = line.split()
                if len(p) > 9 and p[1].endswith(":%04X" % port):
                    inodes.append(int(p[9]))
    except (OSError, ValueError):
        return ""
    found = []
    try:
        pids = [d for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                ino = os.stat("/proc/%s/fd/%s" % (pid, fd))[1]
            except OSError:
                continue
            if ino in inodes:
                try:
                    with open("/proc/%s/comm" % pid) as f:
                        name = f.read().strip()
                except OSError:
                    name = "?"
                found.append("%s (pid %s)" % (name, pid))
                break
    return ", ".join(found)


def _install_sigterm():
    # CPython: SIGTERM ends like Ctrl-C (table printed). The unix port has no signal module;
    # stop it with SIGINT.
    try:
        import signal  # type: ignore[import-not-found]  # CPython only; absent on MicroPython
    except ImportError:
        return

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)


def client_command(cmd, argv):
    # `probe`, `client`, `swarm` (the client side, docs/client.md). CPython on Linux runs them
    # over a raw socket from tools/dhcpclient.py, which stays out of the package (a board has
    # no AF_PACKET); the MicroPython unix port runs `client` over a UDP socket on port 68.
    if sys.implementation.name != "micropython":
        import os
        f = __file__ if __file__.startswith("/") else os.getcwd() + "/" + __file__
        sys.path.insert(0, f.rsplit("/", 3)[0] + "/tools")    # .../firmware/microdhcp/__main__.py
        import dhcpclient  # type: ignore[import-not-found]  # tools/, host only
        return dhcpclient.main([cmd] + argv)
    from microdhcp.clientnet import main
    return main(cmd, argv)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("probe", "client", "swarm"):
        sys.exit(client_command(sys.argv[1], sys.argv[2:]))
    sys.exit(run(sys.argv[1:]))
