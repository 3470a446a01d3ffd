# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp host command, the same on both runtimes:
#   MICROPYPATH=firmware micropython -m microdhcp --iface br0 --address 192.168.4.1/24 ...
#   PYTHONPATH=firmware python3 -m microdhcp --iface br0 --address 192.168.4.1/24 ...
# (no argparse: the MicroPython unix port has none, so flags are parsed here.)
import sys
try:
    from micropython import const
except ImportError:
    def const(x):
        return x
from microdhcp.status import EventLog, event_line
try:    # OFFER/ACK/renewal lines in machine code (MicroPython with the native emitter)
    from microdhcp.fastlog import line as _fast_line, geometry as _line_geometry
except (ImportError, NameError, SyntaxError):   # CPython, or no viper: status.EventLog.write
    _fast_line = None

from microdhcp.settings import SETTINGS, by_flag, usage_lines

# The host command's own flags (not server settings): (flag, takes a value, help).
_HOST = (
    ("--iface", "IF", "serve only this interface (SO_BINDTODEVICE)"),
    ("--leases-file", "PATH", "keep leases in PATH across restarts"),
    ("--exit-after", "SECONDS", "stop after this many seconds (tests)"),
    ("--quiet", None, "no per-event lines"),
    ("--portal", None, "captive portal: DNS answers every name with this server, HTTP on port 80\n"
                       "(or --http) sends every OS's probe to the portal page; option 114 is set to\n"
                       "the RFC 8908 API URI unless --captive-portal names another"),
    ("--names", None, "DNS for leased hostnames (option 12), bare and under --domain"),
    ("--http", "PORT", "the status page (/status) on PORT, without --portal too"),
    ("--dns-name", "NAME", "the server's own DNS name (default microdhcp)"),
    ("--dns-host", "NAME=IP", "a name DNS answers with IP, in both modes and before the leases'\n"
                              "(one label, bare and under --domain), repeatable"),
)


def usage():
    # --help: the server settings from microdhcp.settings (the same table as the boards' config.py
    # and docs/configuration.md), then the host command's own flags.
    out = ["usage: microdhcp --address IP/PREFIX [options]",
           "       microdhcp probe|client|swarm --iface IF ...   (the client side: docs/client.md)",
           "server settings (docs/configuration.md):"]
    out.extend(usage_lines())
    out.append("host command:")
    for flag, arg, text in _HOST:
        left = "  %s %s" % (flag, arg) if arg else "  " + flag
        out.append("%-26s%s" % (left, text.replace("\n", "\n" + " " * 26)))
    out.append("(--portal and --names set the DNS option (6) to this server unless --dns is given.)")
    out.append("Prints one line per lease event; on Ctrl-C (SIGINT) prints the lease table and exits 0.")
    return "\n".join(out)


_VALUED = tuple(r[1] for r in SETTINGS if r[2] != "bool") + tuple(h[0] for h in _HOST if h[1])
_REPEATED = tuple(r[1] for r in SETTINGS if r[2] in ("route", "option", "reserve")) + ("--dns-host",)
_FLAGS = tuple(r[1] for r in SETTINGS if r[2] == "bool") + tuple(h[0] for h in _HOST if not h[1])


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


# Each numeric flag's range, for its usage error. Config checks each setting again, and how they
# relate (T1 < T2 < lease, max_offers up to the table size, ...): these only word the error, and
# may be wider than Config's (test_settings checks that Config refuses just outside each).
_MAX_S = 0x3FFFFFFF     # configure._MAX_LEASE: seconds stay small ints on a 32-bit port
_RANGES = {"--prefix": (8, 30), "--lease": (1, _MAX_S), "--min-lease": (1, _MAX_S), "--renew-time": (1, _MAX_S),
           "--rebind-time": (1, _MAX_S), "--offer-hold": (1, _MAX_S), "--decline-hold": (1, _MAX_S),
           "--mtu": (68, 65535), "--ipv6-only-wait": (300, _MAX_S), "--capacity": (1, 32768),
           "--hostname-len": (0, 63), "--max-offers": (1, 32768), "--offer-interval": (0, _MAX_S),
           "--id-cells": (0, 60000), "--http": (1, 65535), "--exit-after": (0, _MAX_S),
           "--option code": (1, 254)}


def _int(opts, name, default=None):
    # A numeric flag's value, or default when it is not given.
    v = opts.get(name)
    return default if v is None else _whole(v, name)


def _whole(text, what):
    # text as a whole number in what's range (_RANGES), else a usage error naming what and the range.
    lo, hi = _RANGES[what]
    try:
        n = int(text)
    except ValueError:
        n = lo - 1
    if n < lo or n > hi:
        raise UsageError("%s %r must be a whole number from %d to %d" % (what, text, lo, hi))
    return n


# How each repeatable flag's value is written (the usage's placeholders), for its error message.
_FORMS = {"--route": "NET/N=GW", "--reserve": "MAC=IP", "--option": "CODE=HEX", "--dns-host": "NAME=IP"}


def _pair(text, name):
    if "=" not in text:
        raise UsageError("%s %r must be written %s" % (name, text, _FORMS.get(name, "LEFT=RIGHT")))
    return text.rsplit("=", 1)


def build_config(opts):
    # Every server setting given on the command line, converted by its type in the settings
    # table; the rest take Config's defaults.
    from microdhcp.config import Config
    # The host command's own numbers too, now: run() reads them after the sockets are open.
    _int(opts, "--http")
    _int(opts, "--exit-after")
    kit_opts(opts)
    kw = {}
    for flag in opts:
        row = by_flag(flag)
        if row is None:
            continue        # a host command flag
        name, _, typ, default, _ = row
        v = opts[flag]
        if typ == "int":
            v = _int(opts, flag)
        elif typ == "bool":
            v = not default
        elif typ == "route" or typ == "reserve":
            v = [_pair(r, flag) for r in v]
        elif typ == "option":
            raw = {}
            for item in v:
                code, value = _pair(item, flag)
                raw[_whole(code, "--option code")] = value
            v = raw
        kw[name] = v
    return Config(**kw)


def kit_opts(opts):
    # --portal / --names: clients must ask this server for names (option 6), and with --portal
    # find the captive-portal API (option 114, RFC 8910) at our HTTP server.
    if not (opts.get("--portal") or opts.get("--names")):
        for flag in ("--dns-host", "--dns-name"):
            if flag in opts:
                raise UsageError("%s is for the DNS responder: give --names or --portal too" % flag)
        return
    # The DNS names, checked now (a ValueError: bad configuration, exit 2), not once serving.
    from microdhcp import dns
    own = dns.one_label(opts.get("--dns-name", "microdhcp"), "--dns-name")
    opts["--dns-host"] = [tuple(_pair(h, "--dns-host")) for h in opts.get("--dns-host", ())]
    dns.host_table(opts["--dns-host"], own)
    if "--domain" in opts:
        dns.not_special(opts["--domain"], "--domain")
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
                                  own_name=opts.get("--dns-name", "microdhcp"), hosts=opts["--dns-host"])
        try:
            dns_server = DnsServer(responder, iface=iface, log=_out)
        except OSError as e:
            # DHCP goes on without DNS rather than not at all; said once, loudly.
            from microdhcp.errors import describe
            sys.stderr.write("microdhcp: no DNS: cannot open UDP port 53 on %s: %s\n"
                             % (fmt_ip(cfg.server), describe(e, iface=iface)))
    web = None
    port = _int(opts, "--http", 80)
    if opts.get("--portal") or "--http" in opts:
        from microdhcp.web import Portal
        web = Portal(engine, fmt_ip(cfg.server), captive=bool(opts.get("--portal")), clock=clock,
                     dns=dns_server, dhcp=server, port=port)
    _out("microdhcp: kit: dns %s, http %s" % (
        ("captive" if opts.get("--portal") else "names") if dns_server else "off",
        ("port %d" % port) if web else "off"))
    _plug_heap()     # the holes the kit's imports left (the chain grows)
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
        sys.stderr.write(usage() + "\n")
        return 2 if str(e) else 0
    except ValueError as e:
        sys.stderr.write("microdhcp: bad configuration: %s\n" % e)
        return 2

    from microdhcp.engine import Engine
    from microdhcp.net import Server, PortInUse
    from microdhcp.clock import Clock
    from microdhcp import status
    from microdhcp.errors import describe, no_room

    iface = opts.get("--iface")
    clock = Clock()
    try:
        engine = Engine(cfg)
    except MemoryError:
        # A pool too large for the heap (-X heapsize on the unix port): said as a configuration error.
        sys.stderr.write("microdhcp: %s\n" % no_room(cfg.capacity, "serve a smaller pool (--pool), or give the unix port more heap "
                                                   "(micropython -X heapsize=...)"))
        return 2
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
        server.events_locked = True     # HostEventLog.event unlocks the heap itself where it allocates
    _gc_pace()
    _install_sigterm()
    _out("microdhcp: serving on %s, %s, pool %d addresses" % (iface or "all interfaces", cfg.subnet_text, cfg.pool_size))
    _plug_heap()     # last before serving: what start-up made is all in place
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


# Bytes allocated between two collections on the unix port (gc.threshold); see _gc_pace.
_GC_EVERY = 1024 * 1024


def _gc_pace():
    # On MicroPython each datagram that recv() returns is garbage after the engine has copied
    # it, and the first-fit allocator looks for the next one from the lowest free block it knows
    # (py/gc.c:938, the index only moves past a one-block allocation, :986-992), i.e. past every
    # datagram since the last collection. The unix port's heap is 2 MB on 64-bit: left alone, that
    # pile reaches ~2 MB before a collection. Collecting after each MB allocated halves it;
    # measured at 8000 DORA/s (docs/performance.md, "Serving on the unix port"): 55 -> 38 us of
    # user CPU per DORA; much smaller steps are slower (after each collection every allocation
    # starts from block 0 again, py/gc.c:612, across the live heap). Boards' heaps fill before
    # 1 MB: nothing changes there (and boards do not run this command).
    if sys.implementation.name == "micropython":
        import gc
        th = getattr(gc, "threshold", None)
        if th is not None:
            th(_GC_EVERY)


# At most this many plugs (one GC block each: 512 KB on the 64-bit unix port, whose heap is 2 MB).
_PLUG_MAX = 16384
_plugs = None  # type: object  # the plugs: a chain of 1-tuples, each holding the one before


def _plug_heap(limit=_PLUG_MAX):
    # Fills the free blocks that start-up leaves between live objects (the unix port compiles
    # the package into its heap: thousands of small holes). Returns how many blocks it filled.
    # Why: the first-fit allocator starts each search at an index that only a one-block
    # allocation moves forward (py/gc.c:938 and :986-992), that every collection puts back to 0
    # (:612) and that every free or shrink below it pulls back (:1110-1111, :1241-1242). recv()
    # takes a 1 500-byte buffer per datagram and frees it after copying (ports/unix/modsocket.c:
    # 293-297), so each datagram's search started at the lowest hole and walked the whole live
    # heap: gc_alloc was ~18 % of the server's instructions, and more when the event log's
    # objects made the heap longer (docs/performance.md, "The start-up holes"). With the holes
    # filled, a search starts above the live heap.
    # MicroPython only, and only where id() is the address itself: py/obj.c:519-528 makes a small
    # int of a lower-half address, equal to it only below 2**(bits - 2) (above, it wraps), and a
    # long int, allocated, of an upper-half one (the 32-bit build's heap). _heap_top checks the
    # bound: the 64-bit unix port's heap is below it.
    # The work is split in three small functions: a frame of more than 11 words is taken from
    # the heap (py/objfun.c:202, :273-274) and freed on return, which would leave a hole below
    # the plugs; these two have smaller frames, and _heap_top returns before any plug is made.
    top = _heap_top()
    if top is None:
        return 0
    return _fill(top, limit)


def _heap_top():
    # The top of the live heap: where a block bigger than every hole lands (first fit), or None
    # where plugging cannot work. Three quarters of the free heap, halved until it fits; it stays
    # allocated (garbage) until the next collection, so no plug goes into it.
    if sys.implementation.name != "micropython":
        return None
    try:
        import uctypes
    except ImportError:
        return None
    import gc
    gc.collect()
    size = gc.mem_free() * 3 // 4
    while size >= 4096:
        try:
            top = uctypes.addressof(bytearray(size))
        except MemoryError:
            size //= 2
            continue
        return top if top + size <= sys.maxsize >> 1 else None
    return None


def _fill(top, limit):
    global _plugs
    head = _plugs
    k = 0
    while k < limit:
        t = (head,)             # one block, placed in the lowest free one
        if id(t) >= top:        # above the live heap: no hole left below
            break
        head = t
        k += 1
    _plugs = head
    return k


def event_log(engine, iface, clock, out):
    """The default event lines (HostEventLog) to the text stream `out`, held up to
    _EVENT_BATCH bytes; the serve loop flushes them after each poll (Server.idle)."""
    return HostEventLog(engine, iface, _byte_writer(out), _EVENT_BATCH, clock)


# codes.EV_* of the lines fastlog.line builds (private copies: no look-up per event)
_EV_OFFER = const(1)
_EV_BOUND = const(2)
_EV_RENEWED = const(3)


class HostEventLog(EventLog):
    """status.EventLog for every kind of event, in order: OFFER, ACK and renewal lines built in
    place, the rare ones formatted by status.event_line and copied into the same buffer. Here and
    not in status: a board prints its rare lines, and status is frozen into every board.
    Where microdhcp.fastlog compiles (MicroPython), an OFFER, ACK or renewal line is one call of
    its viper twin (fastlog.line) instead of EventLog.write; fast=False keeps write (the tests
    compare the two)."""

    def __init__(self, engine, iface, write_out, batch=0, clock=None, fast=True):
        super().__init__(engine, iface, write_out, batch, clock)
        self.line = None
        if fast and _fast_line is not None:
            self.line = _fast_line
            self.event = self._fast_event(_fast_line)  # type: ignore[method-assign]  # shadows event() below

    def event(self, kind, slot):
        # An engine on_event callback, which net.Server calls with the heap locked on the unix
        # port (Server.events_locked): the OFFER/ACK/renewal lines allocate nothing; a rare line
        # is formatted with the heap unlocked, and the lock is put back as it was.
        if not self.write(kind, slot):
            depth = _unlock_all()
            try:
                c = self.clock
                self.text(event_line(self.engine, kind, slot, self.iface, c.now() if c is not None else 0))
            finally:
                _relock(depth)

    def _fast_event(self, line):
        # event() where fastlog compiles: a function whose default arguments hold everything a
        # line reads, all fixed for the engine's life (the table's arrays, the prefixes, the
        # buffer). Defaults are locals to the VM (no attribute look-up per line) and, unlike a
        # closure's cells past five, need no heap for the call (py/objclosure.c:39-53, closure_call:
        # more than 5 closed-over values and arguments take a heap array, which a locked batch
        # refuses). An OFFER or ACK line is one viper call and the held length's two look-ups;
        # the rare kinds go to the method above.
        t = self.engine.table

        def event(kind, slot, log=self, line=line, buf=self.buf, pre=self.prefix,
                  geo=_line_geometry(t, self.engine.cfg.network, self.net3), extra=t.extra, flags=t.flags,
                  hw=t.hw, host=t.host, batch=self.batch, out=self.write_out):
            if kind == _EV_OFFER or kind == _EV_BOUND or kind == _EV_RENEWED:
                n = line(buf, log.n, pre[kind], slot, geo, extra, flags, hw, host)
                if n > batch:
                    out(buf, n)
                    n = 0
                log.n = n
            else:
                HostEventLog.event(log, kind, slot)     # the method: rare kinds
        return event

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


try:
    from micropython import heap_lock as _heap_lock, heap_unlock as _heap_unlock
except ImportError:     # CPython: no heap lock (its depth reads 0)
    def _heap_lock():
        return 0

    def _heap_unlock():
        return 0


def _unlock_all():
    # Unlocks the heap whatever its lock depth (heap_lock nests) and returns that depth. A lock
    # and an unlock read it: heap_unlock returns the depth left (py/modmicropython.c:133-136);
    # heap_locked() is not in every build. `for _ in range(d)` is compiled to a counted loop
    # (py/compile.c:1430, compile_for_stmt_optimised_range): no range object under the lock.
    _heap_lock()
    d = _heap_unlock()
    for _ in range(d):
        _heap_unlock()
    return d


def _relock(d):
    for _ in range(d):
        _heap_lock()


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
