# The captive-portal kit in the namespace lab (issue 14), both runtimes: DHCP + DNS + HTTP on one
# loop (--portal, --names, --http) against real clients: busybox udhcpc for the lease, dig and
# nslookup for DNS (catch-all, leased names, NXDOMAIN, malformed queries over the wire), curl
# for each OS's portal probe and the RFC 8908 API, malformed HTTP, and a DNS flood and then an
# HTTP flood while a new client must still get its lease (nothing in the kit takes DHCP down);
# headless Chromium renders /status.
# Builds its own Lab (no capture: the malformed queries are meant to be malformed). Root only;
# skipped otherwise, unless MICRODHCP_REQUIRE_LAB=1 (then it fails). About 60 s in all.
import json
import os
import re
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import lab as labmod  # noqa: E402
import pylib  # noqa: E402

RUNTIMES = ("micropython", "cpython")
NEEDED = ("ip", "ethtool", "busybox", "micropython", "dig", "nslookup", "curl")
REQUIRED = os.environ.get("MICRODHCP_REQUIRE_LAB") == "1"
SRV = "192.168.4.1"
PORTAL = "http://%s/portal" % SRV

# Probe URLs of each OS and what it looks for (docs/portal.md): in captive mode each must NOT get
# its "online" answer; a redirect to the portal is what makes the OS open its sheet on that URL.
PROBES = [("connectivitycheck.gstatic.com", "/generate_204"),        # Android
          ("captive.apple.com", "/hotspot-detect.html"),              # Apple
          ("www.msftconnecttest.com", "/connecttest.txt"),            # Windows 10+
          ("www.msftncsi.com", "/ncsi.txt"),                          # older Windows
          ("detectportal.firefox.com", "/canonical.html"),            # Firefox
          ("detectportal.firefox.com", "/success.txt")]
OPEN = {"/generate_204": (204, ""), "/hotspot-detect.html": (200, "Success</BODY>"),
        "/connecttest.txt": (200, "Microsoft Connect Test"), "/ncsi.txt": (200, "Microsoft NCSI"),
        "/success.txt": (200, "success"), "/canonical.html": (200, "captive-portal")}


@pytest.fixture
def kit_lab():
    problems = labmod.missing_prerequisites(NEEDED)
    if problems:
        msg = "portal lab unavailable: " + "; ".join(problems)
        if REQUIRED:
            pytest.fail(msg + " (MICRODHCP_REQUIRE_LAB=1)", pytrace=False)
        pytest.skip(msg)
    path = pylib.ensure()
    with labmod.Lab(tag="p") as lab:
        lab.pylib_env = dict(os.environ, MICROPYPATH=path, PYTHONPATH=path)
        yield lab


def start(lab, runtime, extra):
    args = lab.default_server_args(lease=120, extra=extra)
    args = [a for a in args]
    i = args.index("--dns")          # the kit sets option 6 itself
    del args[i:i + 2]
    proc = lab.start_server(args, runtime=runtime, env=lab.pylib_env)
    assert proc.wait_for(r"microdhcp: kit:", 20), proc.output()
    return proc


def stop(proc):
    rc = proc.stop()
    out = proc.output()
    assert rc == 0, "server exit %s:\n%s" % (rc, out)
    assert "internal error" not in out, out
    return out


def dig(lab, client, *args):
    cp = lab.run(client.ns, ["dig", "@" + SRV, "+tries=1", "+time=2"] + list(args), timeout=10)
    return cp.stdout


def curl(lab, client, host, path, extra=()):
    # The name resolved through our DNS first (dig), then curl pinned to that answer, as a
    # phone does: resolve the probe host, fetch the probe.
    ip = dig(lab, client, "+short", host).strip()
    assert ip == SRV, (host, ip)
    cp = lab.run(client.ns, ["curl", "-s", "-m", "5", "--resolve", "%s:80:%s" % (host, ip), "-o", "-",
                             "-w", "\n%{http_code} %{redirect_url}", "http://%s%s" % (host, path)]
                 + list(extra), timeout=10)
    body, _, last = cp.stdout.rpartition("\n")
    code, _, where = last.partition(" ")
    return int(code or 0), where, body


def lease(lab, name):
    c = lab.add_client()
    r = lab.udhcpc(c, ["-x", "hostname:" + name, "-O", "114"])
    assert r.ok, r.output
    return c, r


_SEND = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
out = []
for hexmsg in sys.argv[1:]:
    s.sendto(bytes.fromhex(hexmsg), ("%s", 53))
    try:
        data = s.recv(2048)
        out.append("%%d:%%d" %% (data[3] & 15, len(data)))
    except socket.timeout:
        out.append("none")
print(" ".join(out))
""" % SRV

_FLOOD = r"""
import socket, sys, time
q = bytes.fromhex(sys.argv[1])
end = time.time() + float(sys.argv[2])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
for s in socks:
    s.setblocking(False)
n = 0
while time.time() < end:
    for s in socks:
        try:
            s.sendto(q, ("%s", 53))
            n += 1
        except OSError:
            pass
        try:
            while True:
                s.recv(2048)
        except OSError:
            pass
print(n)
""" % SRV

# One query (hex, argv[1]) from each source port given (argv[2:]): "PORT:LENGTH" or "PORT:none".
_FROM_PORTS = r"""
import socket, sys
out = []
for port in map(int, sys.argv[2:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(1.0)
    s.sendto(bytes.fromhex(sys.argv[1]), ("%s", 53))
    try:
        out.append("%%d:%%d" %% (port, len(s.recv(2048))))
    except socket.timeout:
        out.append("%%d:none" %% port)
    s.close()
print(" ".join(out))
""" % SRV


_HTTP_FLOOD = r"""
import socket, sys, time
# Slow and broken HTTP: N connections that send half a request line and stay open, and a stream of
# garbage requests, for SECONDS; prints how many connections it opened.
n, secs = int(sys.argv[1]), float(sys.argv[2])
held = []
for i in range(n):
    try:
        s = socket.create_connection(("%s", 80), timeout=2)
        s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        held.append(s)
    except OSError:
        pass
end = time.time() + secs
junk = 0
while time.time() < end:
    try:
        s = socket.create_connection(("%s", 80), timeout=2)
        s.sendall(b"\x00\xff NOT HTTP \r\n\r\n" * 4)
        s.close()
        junk += 1
    except OSError:
        pass
for s in held:
    s.close()
print(len(held), junk)
""" % (SRV, SRV)


def _q(name, qtype=1, qdcount=1):
    body = b"".join(bytes((len(p),)) + p.encode() for p in name.split(".")) + b"\x00"
    return (b"\xab\xcd\x01\x00" + bytes((0, qdcount)) + b"\x00\x00\x00\x00\x00\x00" + body
            + bytes((0, qtype, 0, 1))).hex()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_portal_dns_probes_api_and_dhcp_survives_floods(kit_lab, runtime):
    lab = kit_lab
    proc = start(lab, runtime, ("--portal", "--domain", "lan", "--dns-host", "nas=192.168.4.78"))
    try:
        c, r = lease(lab, "phone-1")
        assert r.dns == [SRV], r.dns           # option 6 points at the kit's DNS
        # a configured name answers its own address while the portal catches every other name
        assert dig(lab, c, "+short", "nas.lan").strip() == "192.168.4.78"
        # dig: every name -> the portal address (A), AAAA empty NOERROR, aa set, ra clear
        out = dig(lab, c, "example.com")
        assert "status: NOERROR" in out and re.search(r"flags: qr aa rd;", out), out
        assert re.search(r"example\.com\.\s+\d+\s+IN\s+A\s+192\.168\.4\.1", out), out
        out = dig(lab, c, "example.com", "AAAA")
        assert "status: NOERROR" in out and "ANSWER: 0" in out, out
        # ... with the SOA (RFC 2308 3: negative answers carry it, for resolvers to cache them),
        # of the root here: captive mode answers every name
        assert "AUTHORITY: 1" in out and re.search(
            r"AUTHORITY SECTION:\n\.\s+5\s+IN\s+SOA\s+microdhcp\.lan\. hostmaster\.lan\. 1 3600 600 1209600 5\n", out), out
        # dig +dnssec: the query's DO bit comes back in our OPT (RFC 3225 3)
        out = dig(lab, c, "+dnssec", "example.com")
        assert re.search(r"EDNS: version: 0, flags: do; udp: 512", out), out
        ns = lab.run(c.ns, ["nslookup", "captive.apple.com", SRV], timeout=10).stdout
        assert re.search(r"Address: 192\.168\.4\.1\s*$", ns, re.M), ns
        # Each OS's probe: redirected to the portal, never the "online" answer
        for host, path in PROBES:
            code, where, body = curl(lab, c, host, path)
            assert code == 302 and where == PORTAL, (host, path, code, where)
        code, _, body = curl(lab, c, "portal.example", "/portal")
        assert code == 200 and 'name="ssid"' in body
        # RFC 8908 API at the option-114 URI
        # (udhcpc -O 114 asks for it and hands it to its script as hex in opt114)
        api = bytes.fromhex(r.env.get("opt114", "")).decode()
        assert api == "http://%s/api/captive" % SRV, r.env
        cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "-D", "-", api], timeout=10)
        head, _, body = cp.stdout.partition("\n\n")   # lab.run reads text: CRLF is LF here
        assert "application/captive+json" in head, (api, cp.stdout)
        assert json.loads(body) == {"captive": True, "user-portal-url": PORTAL}, (api, cp.stdout)
        # Malformed DNS over the wire: FORMERR or silence, then normal service
        bad = [_q("x")[:30], _q("x", qdcount=2), (bytes.fromhex(_q("x"))[:12] + b"\xc0\x0c\x00\x01\x00\x01").hex(),
               (bytes.fromhex(_q("x")) + bytes(700)).hex(), "00", _q("example.com")]
        res = lab.run(c.ns, ["python3", "-c", _SEND] + bad, timeout=20).stdout.split()
        assert res[:4] == ["1:12", "1:12", "1:12", "1:12"] and res[4] == "none" and res[5].startswith("0:"), res
        # Malformed and oversized HTTP: 400 / 413, then the server answers again
        cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                            "X-Big: " + "a" * 3000, "http://%s/status" % SRV], timeout=10)
        assert cp.stdout == "400", cp.stdout
        # (whole: the answer's body too, though the server read not all the client sent, web.drain)
        cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "-o", "-", "-w", "\n%{http_code}", "--data-binary",
                            "x" * 5000, "http://%s/portal" % SRV], timeout=10)
        assert cp.stdout == "Payload too large\n413", cp.stdout
        # A bad %-escape in the form: 400 with the form again (the client's error), not 500
        cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "-o", "-", "-w", "\n%{http_code}", "--data",
                            "ssid=%zz&password=x", "http://%s/portal" % SRV], timeout=10)
        assert cp.stdout.endswith("\n400") and 'name="ssid"' in cp.stdout, cp.stdout
        # DNS flood from one client while another joins: DHCP answers, DNS still answers
        flood = lab.spawn(c.ns, ["python3", "-c", _FLOOD, _q("flood.example"), "6"])
        time.sleep(1)
        c2, r2 = lease(lab, "late-joiner")
        assert r2.ok
        flood.popen.wait(timeout=20)
        sent = int(flood.output().split()[-1])
        assert sent > 5000, sent
        assert dig(lab, c2, "+short", "after.flood").strip() == SRV
        code, _, body = curl(lab, c2, SRV, "/status")
        assert code == 200 and r2.ip in body and "late-joiner" in body and "phone-1" in body
        # HTTP flood: 200 half-open requests held open and a stream of garbage connections while a
        # third client joins; DHCP and DNS answer during it, HTTP answers again after it.
        hflood = lab.spawn(c.ns, ["python3", "-c", _HTTP_FLOOD, "200", "6"])
        time.sleep(2)
        c3, r3 = lease(lab, "httpflood")
        assert dig(lab, c3, "+short", "during.http.flood").strip() == SRV
        hflood.popen.wait(timeout=60)
        held, junk = map(int, hflood.output().split()[-2:])
        assert held >= 150 and junk > 10, (held, junk)
        code, _, body = curl(lab, c3, SRV, "/status")
        assert code == 200 and "httpflood" in body
    finally:
        out = stop(proc)
    assert re.search(r"DHCPACK\(br0\) \S+ \S+ late-joiner", out), out
    assert re.search(r"DHCPACK\(br0\) \S+ \S+ httpflood", out), out


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_names_mode_and_open_probes(kit_lab, runtime):
    lab = kit_lab
    proc = start(lab, runtime, ("--names", "--domain", "lan", "--http", "8080", "--dns-host", "printer=192.168.4.77"))
    try:
        c, r = lease(lab, "sensor-a")
        c2, r2 = lease(lab, "Sensor-B")
        c3, r3 = lease(lab, "laptop.lan")    # option 12 qualified with the domain (RFC 2132 3.14)
        for name, want in (("sensor-a.lan", r.ip), ("sensor-a", r.ip), ("sensor-b.lan", r2.ip),
                           ("microdhcp.lan", SRV), ("microdhcp", SRV), ("printer", "192.168.4.77"),
                           ("Printer.lan", "192.168.4.77"), ("laptop", r3.ip), ("laptop.lan", r3.ip)):
            out = dig(lab, c2, name)
            assert "status: NOERROR" in out and re.search(r"\sIN\s+A\s+%s\s" % re.escape(want), out), (name, out)
        for name, zone in (("nothere.lan", "lan."), ("example.com", "."), ("sensor-a.other", ".")):
            out = dig(lab, c, name)
            assert "status: NXDOMAIN" in out and "ANSWER: 0" in out, (name, out)
            # the zone's SOA in the authority section (RFC 2308 3): the domain for names under it
            assert re.search(r"AUTHORITY SECTION:\n%s\s+5\s+IN\s+SOA\s+microdhcp\.lan\. hostmaster\.lan\. "
                             r"1 3600 600 1209600 5\n" % re.escape(zone), out), (name, out)
        out = dig(lab, c, "-x", "192.168.4.250")           # an address of the pool with no lease
        assert "status: NXDOMAIN" in out and re.search(r"AUTHORITY SECTION:\nin-addr\.arpa\.\s+5\s+IN\s+SOA\s", out), out
        # The domain and the subnet's reverse zone have names below them: NODATA, not NXDOMAIN
        # (RFC 8020 2), with AA as our answers have it
        for args in (("lan", "SOA"), ("4.168.192.in-addr.arpa", "PTR"), ("168.192.in-addr.arpa", "NS")):
            out = dig(lab, c, *args)
            assert "status: NOERROR" in out and "ANSWER: 0" in out and re.search(r"flags: qr aa rd;", out), (args, out)
            assert "AUTHORITY: 1" in out and re.search(r"AUTHORITY SECTION:\n\S+\s+5\s+IN\s+SOA\s", out), (args, out)
        # reverse lookups (PTR): the lease's hostname, the server's own name, a configured name
        for ip, want in ((r.ip, "sensor-a.lan."), (SRV, "microdhcp.lan."), ("192.168.4.77", "printer.lan."),
                         (r3.ip, "laptop.lan.")):
            assert dig(lab, c2, "+short", "-x", ip).strip() == want, ip
        ns = lab.run(c.ns, ["nslookup", "sensor-b.lan", SRV], timeout=10).stdout
        assert r2.ip in ns, ns
        # RFC 6891 7: an error reply to a query with OPT carries ours: dig's (EDNS) STATUS query
        # gets NOTIMP with it, a header and an OPT (QDCOUNT 0) FORMERR and it (12 + 11 bytes)
        out = dig(lab, c, "+opcode=status", "sensor-a.lan")
        assert "status: NOTIMP" in out and "EDNS: version: 0, flags:; udp: 512" in out, out
        assert re.search(r"flags: qr rd;", out), out         # no AA on NOTIMP (RFC 1035 4.1.1)
        opt_only = "abcd0100000000000000000100002904d0000000000000"
        assert lab.run(c.ns, ["python3", "-c", _SEND, opt_only], timeout=10).stdout.split() == ["1:23"]
        # Queries "from" echo, daytime, chargen, time and kpasswd (CVE-2024-2169 loops): no reply,
        # counted in bad_port; the same query from another port is answered.
        res = lab.run(c.ns, ["python3", "-c", _FROM_PORTS, _q("sensor-a.lan"), "7", "13", "19", "37", "464",
                             "40053"], timeout=20).stdout.split()
        assert res[:5] == ["7:none", "13:none", "19:none", "37:none", "464:none"], res
        assert res[5].startswith("40053:") and res[5] != "40053:none", res
        # Not captive: the probes get each OS's "online" answer
        for host, path in PROBES:
            cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "-o", "-", "-w", "\n%{http_code}", "-H", "Host: " + host,
                                "http://%s:8080%s" % (SRV, path)], timeout=10)
            body, _, code = cp.stdout.rpartition("\n")
            want_code, want_text = OPEN[path]
            assert int(code) == want_code and want_text in body, (path, code, body)
        # A 204 carries no Content-Length (RFC 9110 8.6)
        cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "-D", "-", "-o", "/dev/null",
                            "http://%s:8080/generate_204" % SRV], timeout=10)
        assert " 204 " in cp.stdout and "content-length" not in cp.stdout.lower(), cp.stdout
        cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "http://%s:8080/status.json" % SRV], timeout=10)
        st = json.loads(cp.stdout)
        hosts = {x["hostname"]: x["address"] for x in st["leases"]}
        assert hosts.get("sensor-a") == r.ip and hosts.get("Sensor-B") == r2.ip, st
        assert st["counters"]["dns"]["nxdomain"] >= 3 and st["counters"]["dns"]["answered"] >= 5, st
        assert st["counters"]["dns"]["bad_port"] == 5, st
    finally:
        stop(proc)


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.mark.parametrize("runtime", ("micropython",))
def test_status_page_in_headless_chromium(kit_lab, runtime):
    # Debian's chromium, headless, in a client namespace: the DOM it renders lists the leases the
    # lab created (with their hostnames), and its screenshot is kept under out/.
    lab = kit_lab
    if labmod.missing_prerequisites(("chromium",)):
        if REQUIRED:
            pytest.fail("chromium missing (MICRODHCP_REQUIRE_LAB=1)", pytrace=False)
        pytest.skip("chromium missing")
    proc = start(lab, runtime, ("--http", "8080"))
    try:
        c, r = lease(lab, "browser-host")
        c2, r2 = lease(lab, "kettle<b>")           # a hostname with markup: shown as text
        outdir = os.path.join(REPO, "out")
        os.makedirs(outdir, exist_ok=True)
        shot = os.path.join(outdir, "status-page.png")
        if os.path.exists(shot):
            os.unlink(shot)
        base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=%s" % (lab.tmp / "chromium"), "--virtual-time-budget=3000"]
        url = "http://%s:8080/status" % SRV
        dom = lab.run(c.ns, base + ["--dump-dom", url], timeout=60).stdout
        assert r.ip in dom and r2.ip in dom and "browser-host" in dom, dom[:2000]
        assert "kettle&lt;b&gt;" in dom and "<b>" not in dom.split("kettle")[1][:10], dom[:2000]
        assert "2 leases" in dom
        lab.run(c.ns, base + ["--window-size=900,600", "--screenshot=%s" % shot, url], timeout=60)
        assert os.path.exists(shot), "no screenshot"
        assert _png_size(shot) == (900, 600)
        assert os.path.getsize(shot) > 5000       # a page with text and a table, not a blank
    finally:
        stop(proc)
