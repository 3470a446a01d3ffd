# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.web: the HTTP side of the kit, on microdot (PyPI `microdot`, installed with mip on a
# board): the captive-portal probes of Android, Apple, Windows and Firefox, the RFC 8908
# captive-portal API, an example portal page (a Wi-Fi credentials form) and a live status page
# (/status: lease table and counters, refreshing itself). Allocates per request, like any web
# server; it runs as one task beside DHCP and DNS, and a failing request never ends the loop.
import asyncio
from microdot import Microdot, Request, redirect
from microdhcp import status

# Request limits: microdot answers 413 for a body over max_content_length and 400 for a request
# it cannot parse; readline answers 400 for a line over MAX_LINE or a request line and headers
# over 4096 bytes. One request a connection (microdot answers HTTP/1.0 and closes: no keep-alive);
# drain() reads what the client sent past it before the close. A connection lives at most
# Portal.timeout seconds (request read, answer written, rest drained).
MAX_BODY = 2048
MAX_LINE = 1024
REFRESH_S = 5
DRAIN_S = 0.2       # drain(): a client silent this long has sent all it will
DRAIN_N = 32        # drain(): at most this many reads of up to 512 bytes (16 KB), then close

# What each OS fetches to decide whether it is behind a portal, and the answer that means "no
# portal". In captive mode every one of them is redirected to the portal page instead, which is
# what makes each OS open its portal sheet (docs/portal.md lists the sources).
# A 204's body is () (no bytes: microdot's Response.complete then adds no Content-Length, which
# RFC 9110 8.6 forbids on a 204; an empty body writes nothing).
_OPEN_ANSWERS = {
    "/generate_204": (204, (), "text/plain"),                         # Android, Chrome OS
    "/gen_204": (204, (), "text/plain"),
    "/hotspot-detect.html": (200, "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
                             "text/html"),                            # Apple iOS/macOS
    "/library/test/success.html": (200, "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
                                   "text/html"),
    "/connecttest.txt": (200, "Microsoft Connect Test", "text/plain"),  # Windows 10+
    "/ncsi.txt": (200, "Microsoft NCSI", "text/plain"),                 # older Windows
    "/success.txt": (200, "success\n", "text/plain"),                   # Firefox
    "/canonical.html": (200, '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>',
                        "text/html"),
}


async def readline(s):
    # microdot's Request._safe_readline, bounded (its name is a qstr the firmware has: no flash).
    # microdot measured a line once read, but MicroPython's Stream.readline keeps all it reads
    # until a newline comes (extmod/asyncio/stream.py): one client could fill a board's heap with
    # a line without end, or with endless header lines. Read byte by byte: at most MAX_LINE bytes
    # a line, and s.n (set per connection, Portal.make_app) for the request line and headers.
    b = c = await s.read(1)
    while c and b[-1] != 10:
        s.n -= 1
        if len(b) > MAX_LINE or s.n < 0:
            raise ValueError        # a 400, after parse() has drained the rest
        c = await s.read(1)
        b += c
    return b


_create = Request.create


async def parse(app, s, *a):
    # Request.create, as Portal.make_app sets it. A request whose head microdot cannot parse (a
    # request line that is not three words, a header line without a colon, a Content-Length that
    # is not a number, readline's limits) makes create raise, and handle_request answers 400 with
    # the rest unread (microdot.py 2.7.0 lines 1418-1426, 1567-1568), drained before the close.
    # None, not the exception: handle_request would print its traceback (line 1426), which any
    # station can cause at will and a board writes out over its serial line; the 400 handler
    # (make_app) counts it. Socket errors still go to microdot, which mutes the usual ones.
    try:
        return await _create(app, s, *a)
    except OSError:
        raise
    except Exception:
        pass


async def drain(s):
    # After every answer, before the close (Portal.make_app): what the client sent past its
    # request (a body longer than its Content-Length, a second request, the rest of one answered
    # 400 or 413) and what it still sends is read and dropped, until it closes, stops for DRAIN_S
    # or DRAIN_N reads have come (the connection's time limit, Portal.timeout, bounds it too).
    # A socket closed with bytes unread is reset, not closed, and the reset drops what the OS has
    # not yet sent of the answer: lwIP's tcp_close_shutdown sends RST when rcv_wnd is below
    # TCP_WND_MAX and purges the unsent segments (lwIP 2.1.3 to 2.2.0, src/core/tcp.c lines
    # 352-363), and modlwip's close frees unread pbufs without tcp_recved, so any unread byte does
    # it (extmod/modlwip.c lines 1670, 1691); Linux resets too (RFC 2525 2.17). MicroPython writes
    # an answer in several small writes, and its reader, unlike CPython's, reads no more than
    # asked. RFC 9112 9.6 (a server's staged close); no half-close (modlwip has no shutdown), so
    # the client's close or silence ends it.
    try:
        for _ in range(DRAIN_N):
            if not await asyncio.wait_for(s.read(512), DRAIN_S):
                break
    except Exception:
        pass


def esc(text):
    # Hostnames come from clients (option 12): escape before they reach a page.
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _table_rows(engine, now):
    rows = []
    for ip, mac, cid, host, state, left in status.iter_leases(engine, now):
        rows.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            esc(ip), esc(mac or "-"), esc(host or "-"), esc(state),
            "-" if left is None else "never" if left < 0 else "%d s" % left))
    return rows


class Portal:
    """make_app() builds the microdot application.

    engine        the DHCP engine (lease table, counters)
    address       the server's address text, e.g. "192.168.4.1"
    captive       True: probes are redirected to the portal; False: probes get "no portal"
    clock         now() in seconds (the DHCP server's clock)
    dns           the DnsServer (its responder's counters on /status), or None
    dhcp          the DHCP net.Server (its socket counters), or None
    on_credentials(ssid, password)  called when the portal form is submitted (board code)
    """

    timeout = 10

    def __init__(self, engine, address, captive=True, clock=None, dns=None, dhcp=None, port=80,
                 on_credentials=None):
        self.engine = engine
        self.address = address
        self.captive = captive
        self.clock = clock
        self.dns = dns
        self.dhcp = dhcp
        self.port = port
        self.on_credentials = on_credentials
        self.requests = 0
        self.errors = 0
        self.bad = 0            # 400s: requests that could not be parsed or were refused
        base = "http://%s%s" % (address, "" if port == 80 else ":%d" % port)
        self.portal_url = base + "/portal"
        self.credentials = None
        self.app = self.make_app()

    def now(self):
        return self.clock.now() if self.clock is not None else 0

    def make_app(self):
        Request.max_content_length = MAX_BODY
        Request.max_body_length = MAX_BODY
        Request._safe_readline = readline
        Request.create = parse
        app = Microdot()
        portal = self
        h = app.handle_request

        async def handle(s, sock):
            # microdot waits on a client without end, and a socket error it does not mute ends
            # the connection's task with its socket open: a client that sends nothing, stops
            # half-way or reads no answer would keep a socket (a board has about ten) and its
            # memory for good. Each connection gets `timeout` seconds, then is closed (a server's
            # timeout for a connection, RFC 9112 9.5). handle_request closes the connection after
            # the answer (microdot.py 2.7.0 line 1432): drained first (see drain).
            s.n = 4096
            close = sock.aclose

            async def aclose():
                await drain(s)
                await close()
            sock.aclose = aclose
            try:
                await asyncio.wait_for(h(s, sock), portal.timeout)
            except Exception:       # the time is up, or a socket error microdot let through
                await close()
        app.handle_request = handle

        @app.before_request
        async def count(req):
            portal.requests += 1

        @app.errorhandler(500)
        async def internal(req):
            portal.errors += 1
            return "internal error", 500

        @app.errorhandler(400)
        async def bad_request(req):
            portal.bad += 1
            return "Bad request", 400

        @app.errorhandler(413)
        async def too_large(req):
            return "Payload too large", 413     # the body over MAX_BODY: drained after (drain)

        @app.route("/status")
        async def status_page(req):
            return portal.status_html(), 200, {"Content-Type": "text/html; charset=utf-8",
                                               "Cache-Control": "no-store"}

        @app.route("/status.json")
        async def status_json(req):
            return portal.status_dict()

        @app.route("/api/captive")
        async def captive_api(req):
            # RFC 8908 section 5: application/captive+json, `captive` required; the portal URL
            # for the user. Not cached (RFC 8908 section 5: private, the state is per client).
            import json
            body = {"captive": portal.captive}
            if portal.captive:
                body["user-portal-url"] = portal.portal_url
            return json.dumps(body), 200, {"Content-Type": "application/captive+json",
                                           "Cache-Control": "private"}

        @app.route("/portal", methods=["GET", "POST"])
        async def portal_page(req):
            if req.method == "POST":
                try:
                    form = req.form or {}
                except ValueError:
                    # a bad %-escape, or bytes that are not UTF-8 (UnicodeError is a ValueError):
                    # the client's error (RFC 9110 15.5.1, 400), not ours (500): the form again
                    form = {}
                ssid = form.get("ssid", "")
                password = form.get("password", "")
                if not ssid or len(ssid.encode()) > 32 or len(password.encode()) > 63:
                    # 802.11: an SSID is 1-32 bytes; WPA2 passphrases are at most 63 characters.
                    return portal.page("Wi-Fi setup", "<p>The network name must be 1-32 bytes and the "
                                       "password at most 63.</p>" + _FORM), 400, _HTML
                portal.credentials = (ssid, password)
                if portal.on_credentials is not None:
                    portal.on_credentials(ssid, password)
                return portal.page("Wi-Fi setup", "<p>Saved: the device will join <b>%s</b>.</p>" % esc(ssid)), 200, _HTML
            return portal.page("Wi-Fi setup", _FORM), 200, _HTML

        @app.route("/")
        async def index(req):
            if portal.captive:
                return redirect(portal.portal_url)
            return redirect("/status")

        @app.route("/<path:path>")
        async def anything(req, path):
            p = "/" + path
            if portal.captive:
                # Every probe and every other URL of a foreign site: to the portal (302), which
                # is the answer Android, Apple, Windows and Firefox take as "portal here".
                return redirect(portal.portal_url)
            ans = _OPEN_ANSWERS.get(p)
            if ans is None:
                return "not found", 404
            code, body, ctype = ans
            return body, code, {"Content-Type": ctype}

        return app

    def page(self, title, body, refresh=0):
        head = '<meta http-equiv="refresh" content="%d">' % refresh if refresh else ""
        return ('<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" '
                'content="width=device-width"><title>%s</title>%s<style>body{font-family:sans-serif;'
                'margin:1em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}'
                '</style></head><body><h1>%s</h1>%s</body></html>' % (esc(title), head, esc(title), body))

    def counters(self):
        c = {}  # type: dict
        e = self.engine
        c["dhcp"] = dict((k, v) for k, v in status.stats(e).items() if v)
        c["dhcp_dropped"] = status.dropped(e)
        if self.dhcp is not None:
            c["dhcp_sent"] = self.dhcp.sent
        if self.dns is not None:
            c["dns"] = dict((k, v) for k, v in self.dns.responder.stats().items() if v)
        c["http_requests"] = self.requests
        c["http_errors"] = self.errors
        c["http_bad"] = self.bad
        return c

    def status_dict(self):
        now = self.now()
        leases = [dict(address=ip, mac=mac, hostname=host, state=state, left=left)
                  for ip, mac, cid, host, state, left in status.iter_leases(self.engine, now)]
        return {"leases": leases, "counters": self.counters()}

    def status_html(self):
        now = self.now()
        rows = _table_rows(self.engine, now)
        table = ("<table id=\"leases\"><tr><th>address</th><th>MAC</th><th>hostname</th><th>state</th>"
                 "<th>time left</th></tr>%s</table>" % "".join(rows))
        c = self.counters()
        lines = []
        for k in ("dhcp", "dns"):
            if k in c:
                lines.append("<p>%s: %s</p>" % (k, esc(" ".join("%s=%d" % kv for kv in sorted(c[k].items()))) or "-"))
        lines.append("<p>dhcp dropped=%d, http requests=%d</p>" % (c["dhcp_dropped"], c["http_requests"]))
        body = "<p>%d leases, refreshed every %d s</p>%s%s" % (len(rows), REFRESH_S, table, "".join(lines))
        return self.page("microdhcp status", body, REFRESH_S)


_HTML = {"Content-Type": "text/html; charset=utf-8"}
_FORM = ('<form method="post" action="/portal"><p><label>Network name <input name="ssid" maxlength="32">'
         '</label></p><p><label>Password <input name="password" type="password" maxlength="63"></label></p>'
         '<p><button type="submit">Save</button></p></form>')
