#!/usr/bin/env python3
"""Starvation floods against the RUNNING microdhcp in the namespace lab (issue 7 item 2).

Host tool (CPython, root). One run per server runtime and mode:
  1. start the server (pool .2-.249, short lease, one reservation), bind N busybox udhcpc
     clients that stay running (no -q) and renew at T1 = lease/2;
  2. DISCOVER flood: perfdhcp -i (relay mode, -R 100000 random client MACs) plus a raw-socket
     flooder (frames built with scapy, sent by AF_PACKET) broadcasting DISCOVERs from random
     chaddr; a reserved client runs udhcpc in the middle of it;
  3. wait offer_hold + 1 s, then a new client must get an address (the offers came back);
  4. REQUEST flood: the raw flooder sends SELECTING REQUESTs (our server id) and INIT-REBOOT
     REQUESTs for random pool addresses from random chaddr, perfdhcp does full DORA; the
     flood lasts until every bound client has passed T1, the reserved client runs again;
  5. every bound client must have renewed its own address (DHCPACK event lines for its MAC)
     and still hold it; SIGINT prints the table and the counters line, which are reported.

    sudo python3 tools/flood.py                      # both runtimes, default settings
    sudo python3 tools/flood.py --mode both --json   # default and --known-clients-only
    python3 tools/flood.py send IFACE ...            # (internal) the raw flooder, in a namespace

Every loop and wait is bounded; the Lab removes its namespaces even on errors.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import lab as labmod  # noqa: E402

SERVER_ADDRESS = "192.168.4.1/24"
SERVER_IP = "192.168.4.1"
POOL_FIRST, POOL_LAST = "192.168.4.2", "192.168.4.249"
POOL_SIZE = 248
RESERVED_MAC, RESERVED_IP = "02:00:00:00:0f:ff", "192.168.4.253"   # outside the pool
FOLLOW_MAC = "02:00:00:00:0f:fe"
FLOODER_MAC = "02:00:00:00:0e:01"
FLOOD_MAC_PREFIX = 0x0e      # raw flooder chaddr: 0e:xx:xx:xx:xx:xx (locally administered)

_EVENT = re.compile(r"^(DHCP[A-Z]+)\(\S+\) (\S+)(?: (\S+))?", re.M)
_ROW = re.compile(r"^(\d+\.\d+\.\d+\.\d+)\s+(\S+)\s+\S+\s+\S+\s+(free|offered|bound|released|"
                  r"expired|declined|reserved)\s+(\S+)$", re.M)


def client_mac(i):
    return "02:00:00:00:0a:%02x" % (i + 1)


def known_ip(i):
    return "192.168.4.%d" % (10 + i)


# ---------------------------------------------------------------- the raw flooder (in a netns)

def _templates(kinds, server, first_ip):
    """One broadcast frame per kind, built by scapy; the sender patches MAC, xid and address."""
    from scapy.all import BOOTP, DHCP, IP, UDP, Ether, Raw  # noqa: E402 (only the flooder needs scapy)
    out = []
    for kind in kinds:
        opts = [("message-type", "discover" if kind == "discover" else "request")]
        if kind == "select":
            opts.append(("server_id", server))
        if kind in ("select", "initreboot"):
            opts.append(("requested_addr", first_ip))
        opts += [("param_req_list", [1, 3, 6]), "end"]
        # UDP checksum 0 = none (RFC 768): the payload is patched per frame without recomputing.
        frame = (Ether(src="0e:00:00:00:00:00", dst="ff:ff:ff:ff:ff:ff")
                 / IP(src="0.0.0.0", dst="255.255.255.255")
                 / UDP(sport=68, dport=67, chksum=0)
                 / BOOTP(op=1, htype=1, hlen=6, xid=1, flags=0x8000, chaddr=b"\x0e" + bytes(15))
                 / DHCP(options=opts))
        pad = 300 - len(frame[BOOTP])          # RFC 1542 2.1: BOOTP messages are >= 300 bytes
        if pad > 0:
            frame = frame / Raw(bytes(pad))
        raw = bytearray(bytes(frame))
        ra = -1
        if kind != "discover":
            ra = raw.index(b"\x32\x04" + socket.inet_aton(first_ip), 14 + 20 + 8 + 240) + 2
        out.append((raw, ra))
    return out


def send_main(argv):
    ap = argparse.ArgumentParser(prog="flood.py send")
    ap.add_argument("iface")
    ap.add_argument("--kinds", default="discover", help="discover,select,initreboot (round robin)")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=0, help="frames per second (0 = as fast as possible)")
    ap.add_argument("--server", default=SERVER_IP)
    ap.add_argument("--first", default=POOL_FIRST)
    ap.add_argument("--last", default=POOL_LAST)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    kinds = [k for k in a.kinds.split(",") if k]
    for k in kinds:
        if k not in ("discover", "select", "initreboot"):
            ap.error("unknown kind %r" % k)
    tpl = _templates(kinds, a.server, a.first)
    first = int(ipaddress.ip_address(a.first))
    span = int(ipaddress.ip_address(a.last)) - first + 1
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((a.iface, 0))
    x = a.seed & 0xFFFFFFFF or 1
    sent = errors = 0
    t0 = time.monotonic()
    deadline = t0 + a.seconds
    for i in range(a.count):          # bounded by count and by time
        if i & 63 == 0:
            now = time.monotonic()
            if now >= deadline:
                break
            if a.rate and i > a.rate * (now - t0):
                time.sleep(min(0.05, i / a.rate - (now - t0)))
        buf, ra = tpl[i % len(tpl)]
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        y = (x ^ (x >> 13) ^ (i << 7)) & 0xFFFFFFFF
        mac = bytes((FLOOD_MAC_PREFIX, (i >> 16) & 255, y >> 24, (y >> 16) & 255, (y >> 8) & 255, y & 255))
        buf[6:12] = mac                     # Ethernet source: one station per chaddr
        buf[70:76] = mac                    # chaddr (14 Ethernet + 20 IP + 8 UDP + 28)
        buf[46:50] = x.to_bytes(4, "big")   # xid
        if ra >= 0:
            buf[ra:ra + 4] = (first + (y >> 3) % span).to_bytes(4, "big")
        try:
            sock.send(buf)
            sent += 1
        except OSError:
            errors += 1                     # ENOBUFS under load: counted, not retried
    dt = time.monotonic() - t0
    print(json.dumps({"sent": sent, "errors": errors, "seconds": round(dt, 2),
                      "rate": int(sent / dt) if dt > 0 else 0, "kinds": kinds}), flush=True)
    return 0


# ---------------------------------------------------------------- log parsing

def events(text):
    """[(kind, ip, mac)] from the server's event lines (DHCPDISCOVER lines: ip is the MAC)."""
    return [(m.group(1), m.group(2), m.group(3)) for m in _EVENT.finditer(text)]


def table(text):
    """{mac: (ip, state)} and [(ip, mac, state)] from the table printed at SIGINT."""
    rows = [(m.group(1), m.group(2), m.group(3)) for m in _ROW.finditer(text)]
    return rows


counters = labmod.parse_counters
_wait = labmod.wait_until


# ---------------------------------------------------------------- one flood run

def flood_run(runtime="micropython", known_only=False, clients=8, lease=60, offer_hold=30,
              discover_seconds=15.0, request_seconds=15.0, count=5000000, rate=0,
              perf_rate=20000, use_perfdhcp=True, log=None, tag="f", renewals=True):
    """One lab, one server, the two flood phases. Returns a dict of figures and checks
    (see the keys at the end); raises only on lab failures (a server that does not start).
    renewals=False: a shorter run that does not stretch the REQUEST flood past T1 nor wait for
    the bound clients to renew (they must still hold their addresses)."""
    say = log or (lambda *a: None)
    use_perfdhcp = use_perfdhcp and shutil.which("perfdhcp") is not None
    res = {"runtime": runtime, "mode": "known-clients-only" if known_only else "default",
           "clients": clients, "lease": lease, "offer_hold": offer_hold, "problems": []}
    t_start = time.monotonic()
    with labmod.Lab(server_address=SERVER_ADDRESS, tag=tag) as lab:
        extra = ["--offer-hold", str(offer_hold), "--reserve", "%s=%s" % (RESERVED_MAC, RESERVED_IP)]
        if known_only:
            extra.append("--known-clients-only")
            for i in range(clients):
                extra += ["--reserve", "%s=%s" % (client_mac(i), known_ip(i))]
        srv = lab.start_server(lab.default_server_args(lease=lease, extra=extra), runtime=runtime)
        if not srv.wait_for(r"serving", 15):
            raise RuntimeError("server did not start:\n" + srv.output())

        # -- bound clients: udhcpc stays running and renews at T1
        procs, macs, bound = [], [], {}
        for i in range(clients):
            c = lab.add_client(mac=client_mac(i), name="b%d" % i)
            # -A 2: after giving a lease up, DISCOVER again 2 s later (busybox default: 20 s)
            procs.append((c, lab.udhcpc_spawn(c, ["-T", "2", "-t", "5", "-A", "2"])))
            macs.append(c.mac)
        for c, p in procs:
            ev = _wait(lambda: [e for e in lab.dump_events(p.dump) if e[0] == "bound"], 20)
            bound[c.mac] = ev[0][1].get("ip") if ev else None
        t_bound = time.monotonic()
        res["bound_before"] = dict(bound)
        if not all(bound.values()):
            res["problems"].append("clients not bound before the flood: %s" % bound)
        say("[%s/%s] %d clients bound: %s" % (runtime, res["mode"], clients, " ".join(
            str(v).rsplit(".", 1)[-1] for v in bound.values())))
        fl = lab.add_client(mac=FLOODER_MAC, name="flood")
        reserved = lab.add_client(mac=RESERVED_MAC, name="resv")

        def raw_flood(kinds, seconds, seed):
            argv = [sys.executable, str(Path(__file__).resolve()), "send", fl.ifname,
                    "--kinds", kinds, "--count", str(count), "--seconds", str(seconds),
                    "--rate", str(rate), "--seed", str(seed)]
            return lab.spawn(fl.ns, argv)

        def perf_thread(seconds, initial_only, out):
            args = ["-i"] if initial_only else []
            out["perf"] = lab.perfdhcp(rate=perf_rate, duration=max(1, int(seconds)),
                                       num_clients=100000, extra_args=args, timeout=seconds + 30)

        def run_phase(name, kinds, seconds, seed, initial_only):
            mark = len(srv.output())
            say("[%s/%s] %s flood: %s%s for %.0f s" % (runtime, res["mode"], name, kinds,
                                                       " + perfdhcp" if use_perfdhcp else "", seconds))
            perf, th = {}, None
            if use_perfdhcp:
                th = threading.Thread(target=perf_thread, args=(seconds, initial_only, perf), daemon=True)
                th.start()
            sender = raw_flood(kinds, seconds, seed)
            t_end = time.monotonic() + seconds
            time.sleep(min(seconds / 4, 3))
            # The reserved client, mid-flood: udhcpc (3 DISCOVERs 1 s apart) again and again
            # until it has its address or the flood is over.
            t = time.monotonic()
            tries, r = 0, None
            while tries < 30 and (tries == 0 or time.monotonic() < t_end - 1):
                tries += 1
                r = lab.udhcpc(reserved, ["-t", "3", "-T", "1"], timeout=10)
                if r.ip:
                    break
            # Mid-flood only if it was served before the flood's end with the flooder still sending.
            resv = {"ip": r.ip, "seconds": round(time.monotonic() - t, 1), "tries": tries,
                    "during_flood": time.monotonic() < t_end and sender.alive()}
            say("[%s/%s]   reserved client mid-flood: %s in %.1f s, %d udhcpc run(s)"
                % (runtime, res["mode"], r.ip, resv["seconds"], tries))
            sender.popen.wait(seconds + 30)
            sender.stop(signal.SIGTERM)
            if th is not None:
                th.join(seconds + 40)
            stats = {}
            m = re.search(r"^\{.*\}$", sender.output(), re.M)
            if m:
                stats = json.loads(m.group(0))
            else:
                res["problems"].append("%s flooder printed no summary: %s" % (name, sender.output()[-800:]))
            p = perf.get("perf")
            pstats = {}
            if p is not None:
                for k in ("DO", "RA"):
                    s = p.stats.get(k, {})
                    pstats[k] = {"sent": s.get("sent_packets", 0), "received": s.get("received_packets", 0)}
            text = srv.output()[mark:]
            evs = events(text)
            known = set(macs) | {RESERVED_MAC, FOLLOW_MAC}
            ph = {"raw": stats, "perfdhcp": pstats, "reserved": resv,
                  "offers": sum(1 for e in evs if e[0] == "DHCPOFFER" and e[2] not in known),
                  "acks_to_flood": sum(1 for e in evs if e[0] == "DHCPACK" and e[2] not in known),
                  "naks": sum(1 for e in evs if e[0] == "DHCPNAK"),
                  "noaddr": sum(1 for e in evs if e[0] == "DHCPDISCOVER"),
                  "renewals": sum(1 for e in evs if e[0] == "DHCPACK" and e[2] in macs)}
            ph["sent"] = stats.get("sent", 0) + sum(v["sent"] for v in pstats.values())
            ph["rate"] = stats.get("rate", 0) + int(sum(v["sent"] for v in pstats.values()) / max(seconds, 1))
            say("[%s/%s]   sent %d (raw %s/s, perfdhcp %s), OFFERs %d, ACKs to flood MACs %d, NAKs %d"
                % (runtime, res["mode"], ph["sent"], stats.get("rate"), pstats, ph["offers"],
                   ph["acks_to_flood"], ph["naks"]))
            return ph

        res["discover"] = run_phase("DISCOVER", "discover", discover_seconds, 11, True)
        t_flood1_end = time.monotonic()

        # -- offered but never requested: back in the pool after offer_hold
        time.sleep(max(0.0, t_flood1_end + offer_hold + 1 - time.monotonic()))
        follow = lab.add_client(mac=FOLLOW_MAC, name="late")
        r = lab.udhcpc(follow, ["-t", "5"], timeout=15)
        res["follow_up_ip"] = r.ip
        say("[%s/%s] new client %d s after the DISCOVER flood: %s" % (runtime, res["mode"],
                                                                      offer_hold + 1, r.ip))

        # -- REQUEST flood until every bound client has passed T1 (+5 s)
        t1_due = t_bound + lease / 2 + 5
        secs = max(request_seconds, t1_due - time.monotonic()) if renewals else request_seconds
        res["request"] = run_phase("REQUEST", "select,initreboot", secs, 23, False)
        t_flood2_end = time.monotonic()

        # -- every bound client renewed its own address
        def renewed():
            evs = events(srv.output())
            acks = {}
            for kind, ip, mac in evs:
                if kind == "DHCPACK" and mac in bound:
                    acks.setdefault(mac, []).append(ip)
            return acks if all(len(acks.get(m, [])) >= 2 for m in macs) else None
        res["renewals_checked"] = renewals
        acks = _wait(renewed, max(5.0, t_bound + lease * 7 / 8 - time.monotonic()), 0.2) if renewals else None
        if acks is None:
            acks = {}
            for kind, ip, mac in events(srv.output()):
                if kind == "DHCPACK" and mac in bound:
                    acks.setdefault(mac, []).append(ip)
        res["renewals_per_client"] = dict((m, len(acks.get(m, [])) - 1) for m in macs)

        # busybox udhcpc gives a lease up (script `deconfig`) after a few unanswered renew and
        # rebind packets, long before the lease ends: under a flood that drops most datagrams at
        # the server's socket it may do so. It then DISCOVERs again and must get the same address.
        def state(p):
            evs = lab.dump_events(p.dump)
            last = [i for i, (e, _) in enumerate(evs) if e in ("bound", "renew", "deconfig")]
            return evs, (evs[last[-1]] if last else (None, {}))

        def settled():
            return all(state(p)[1][0] in ("bound", "renew") for c, p in procs)
        _wait(settled, 20, 0.2)
        lost, gave_up = [], 0
        for c, p in procs:
            evs, (last, env) = state(p)
            names = [e for e, _ in evs]
            first = names.index("bound") if "bound" in names else len(names)
            gave_up += "deconfig" in names[first:]
            ips = acks.get(c.mac, [])
            have = [a.split("/")[0] for a in lab.client_addresses(c)]
            ok = (bound[c.mac] and all(ip == bound[c.mac] for ip in ips) and last in ("bound", "renew")
                  and env.get("ip") == bound[c.mac] and bound[c.mac] in have and p.alive())
            if not ok:
                lost.append({"mac": c.mac, "bound": bound[c.mac], "acks": ips, "events": names,
                             "has": have, "log": p.output()[-600:]})
        res["lost"] = lost
        res["clients_gave_up_and_rebound"] = gave_up

        # -- the REQUEST phase's perfdhcp DISCOVERs made offers too: let their hold run out
        time.sleep(max(0.0, t_flood2_end + offer_hold + 1 - time.monotonic()))
        # -- SIGINT: lease table and counters
        rc = srv.stop(signal.SIGINT, timeout=10)
        out = srv.output()
        rows = table(out)
        res["server_rc"] = rc
        res["counters"] = counters(out)
        known = set(macs) | {RESERVED_MAC, FOLLOW_MAC}
        res["end_bound_real"] = sorted(ip for ip, mac, st in rows if st == "bound" and mac in macs)
        res["flood_bound"] = sum(1 for ip, mac, st in rows if st == "bound" and mac not in known)
        res["offered_at_end"] = sum(1 for ip, mac, st in rows if st == "offered")
        table_of = dict((mac, (ip, st)) for ip, mac, st in rows)
        for m in macs:
            if table_of.get(m) != (bound[m], "bound"):
                res["problems"].append("table: %s is %s, was bound to %s" % (m, table_of.get(m), bound[m]))
        res["reserved_in_table"] = table_of.get(RESERVED_MAC)
        for c, p in procs:
            p.stop(signal.SIGTERM, timeout=3)
    res["seconds"] = round(time.monotonic() - t_start, 1)
    return res


def check(res):
    """The invariants of issue 7 item 2, as a list of failures (empty = all hold)."""
    bad = list(res["problems"])
    if res["lost"]:
        bad.append("bound clients lost their address: %s" % res["lost"])
    if res["renewals_checked"] and not all(n >= 1 for n in res["renewals_per_client"].values()):
        bad.append("bound clients without a renewal ACK: %s" % res["renewals_per_client"])
    for ph in ("discover", "request"):
        if res[ph]["reserved"]["ip"] != RESERVED_IP:
            bad.append("reserved client got %s during the %s flood" % (res[ph]["reserved"]["ip"], ph))
        elif not res[ph]["reserved"]["during_flood"]:
            bad.append("reserved client served only after the %s flood had ended" % ph)
    if res["mode"] == "default" and not res["follow_up_ip"]:
        bad.append("no address for a new client offer_hold after the DISCOVER flood")
    if res["mode"] != "default" and res["follow_up_ip"]:
        bad.append("known-clients-only served an unknown client: %s" % res["follow_up_ip"])
    if res["offered_at_end"]:
        bad.append("%d addresses still offered at the end" % res["offered_at_end"])
    if res["mode"] != "default" and res["flood_bound"]:
        bad.append("known-clients-only: the flood bound %d addresses" % res["flood_bound"])
    if res["server_rc"] != 0:
        bad.append("server exit code %s" % res["server_rc"])
    return bad


def summary(res):
    c = res["counters"]
    d, r = res["discover"], res["request"]
    return "\n".join([
        "%s, %s: %d bound clients, lease %d s, offer_hold %d s (run %.0f s)" % (
            res["runtime"], res["mode"], res["clients"], res["lease"], res["offer_hold"], res["seconds"]),
        "  DISCOVER flood: %d sent (~%d/s; raw %s, perfdhcp -i %s) -> %d OFFERs to flood MACs; reserved client %s "
        "in %ss (%d tries)" % (d["sent"], d["rate"], d["raw"].get("sent"), d["perfdhcp"].get("DO", {}).get("sent"),
                               d["offers"], d["reserved"]["ip"], d["reserved"]["seconds"], d["reserved"]["tries"]),
        "  new client offer_hold+1 s later: %s" % res["follow_up_ip"],
        "  REQUEST flood: %d sent (~%d/s; raw %s, perfdhcp DORA %s) -> %d ACKs to flood MACs, %d NAKs; "
        "reserved client %s in %ss (%d tries)" % (
            r["sent"], r["rate"], r["raw"].get("sent"), sum(v["sent"] for v in r["perfdhcp"].values()),
            r["acks_to_flood"], r["naks"], r["reserved"]["ip"], r["reserved"]["seconds"], r["reserved"]["tries"]),
        "  bound clients: lost %d, renewals %s, gave the lease up and got it back %d" % (
            len(res["lost"]), sorted(res["renewals_per_client"].values()), res["clients_gave_up_and_rebound"]),
        "  flood holds at the end: %d bound, %d offered (pool %d)" % (
            res["flood_bound"], res["offered_at_end"], POOL_SIZE),
        "  counters: received=%s offer_cap=%s rate_limited=%s id_mismatch=%s pool_exhausted=%s "
        "unknown_client=%s offer=%s ack=%s nak=%s" % tuple(
            c.get(k, 0) for k in ("received", "offer_cap", "rate_limited", "id_mismatch", "pool_exhausted",
                                  "unknown_client", "offer", "ack", "nak")),
    ])


def main(argv):
    if argv[:1] == ["send"]:
        return send_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtime", choices=("micropython", "cpython", "both"), default="both")
    ap.add_argument("--mode", choices=("default", "known", "both"), default="both")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--lease", type=int, default=60)
    ap.add_argument("--offer-hold", type=int, default=30)
    ap.add_argument("--discover-seconds", type=float, default=20)
    ap.add_argument("--request-seconds", type=float, default=20)
    ap.add_argument("--count", type=int, default=5000000, help="raw frames per phase at most")
    ap.add_argument("--rate", type=int, default=0, help="raw frames/s (0 = as fast as possible)")
    ap.add_argument("--perf-rate", type=int, default=20000)
    ap.add_argument("--no-perfdhcp", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("flood.py needs root (network namespaces)", file=sys.stderr)
        return 2
    runtimes = ("micropython", "cpython") if a.runtime == "both" else (a.runtime,)
    modes = (False, True) if a.mode == "both" else (a.mode == "known",)
    failed = 0
    for rt in runtimes:
        for known in modes:
            res = flood_run(rt, known, a.clients, a.lease, a.offer_hold, a.discover_seconds,
                            a.request_seconds, a.count, a.rate, a.perf_rate, not a.no_perfdhcp,
                            log=lambda s: print(s, file=sys.stderr, flush=True))
            bad = check(res)
            failed += bool(bad)
            print(json.dumps(res) if a.json else summary(res), flush=True)
            for b in bad:
                print("  FAIL: " + b, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
