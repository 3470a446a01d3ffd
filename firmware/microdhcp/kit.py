# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.kit: DHCP, DNS and HTTP on one asyncio loop, the same on MicroPython (boards, unix
# port) and CPython. Each part is its own task; none can end the others: the DHCP and DNS
# shells count and survive their own errors, and a web server that fails to start is reported
# while DHCP goes on.
try:
    import asyncio
except ImportError:
    import uasyncio as asyncio  # type: ignore[no-redef]  # MicroPython before 1.21


async def serve_all(dhcp, dns=None, web=None, http_port=80, until=None, clock=None, log=None):
    """Runs until `until` (seconds of clock) or forever. web: a microdhcp.web.Portal or None."""
    # DHCP and DNS: [name, coroutine function, task]. Their loops never return and catch what a
    # socket or the heap throws at them; should one end all the same (an error nobody foresaw),
    # it is said and started again, so that DHCP is never left dead beside a live portal.
    loops = [["DHCP", dhcp.serve, None]]
    if dns is not None:
        loops.append(["DNS", dns.serve, None])
    for part in loops:
        part[2] = asyncio.create_task(part[1]())
    web_task = None
    if web is not None:
        web_task = asyncio.create_task(web.app.start_server(host="0.0.0.0", port=http_port))
    reported = False
    try:
        while until is None or clock.now() < until:
            await asyncio.sleep(1)
            for part in loops:
                if part[2].done():
                    why = await _ended(part[2])
                    if log:
                        log("microdhcp: %s task ended (%s); starting it again" % (part[0], why))
                    part[2] = asyncio.create_task(part[1]())
            if web_task is not None and web_task.done() and not reported:
                reported = True
                if log:
                    log("microdhcp: HTTP server on port %d stopped (%s); DHCP and DNS go on"
                        % (http_port, await _ended(web_task)))
    finally:
        if web is not None:
            try:
                web.app.shutdown()
            except Exception:
                pass
        for part in loops:
            part[2].cancel()
        if web_task is not None:
            web_task.cancel()


async def _ended(task):
    # What ended a task that is done: awaiting it hands back its result or raises what ended it.
    try:
        await task
    except BaseException as e:  # noqa: B036 - report whatever it was
        return repr(e)
    return "it returned"


def run(dhcp, dns=None, web=None, http_port=80, until=None, clock=None, log=None):
    asyncio.run(serve_all(dhcp, dns, web, http_port, until, clock, log))


def run_board(b, portal=True, http_port=80, on_credentials=None, domain=None):
    """A board's kit (boards/*_captive/main.py): DHCP on b.server (microdhcp.board.Board, already
    bound), DNS on UDP 53 (captive catch-all with portal=True, else leased names) and HTTP on
    http_port when microdot is installed. A part that cannot start is said on the console and
    left out (a MemoryError too); DHCP is served whatever happens to the others. Bounded by config RUN_SECONDS.
    Config DNS_HOSTS: [(name, "a.b.c.d"), ...], names the DNS answers in both modes (dns.Responder's
    hosts); a bad one is said on the console, with DNS left out."""
    from microdhcp import board, dns, status
    from microdhcp.dnsserver import DnsServer
    from microdhcp.ipv4 import fmt_ip
    c = b.c
    until = getattr(c, "RUN_SECONDS", None)
    if until is not None:
        until = b.clock.now() + until
    if b.server is None:
        return board.run(b)          # port 67 held by another server: the board's own fallback
    b.open_store()
    e = b.engine
    dns_server = None
    try:
        r = dns.Responder(dns.CAPTIVE if portal else dns.NAMES, e.server, engine=e, domain=domain,
                          hosts=getattr(c, "DNS_HOSTS", None) or ())
        dns_server = DnsServer(r, iface=b.device, log=board.log)
    except (OSError, ValueError, MemoryError) as x:
        from microdhcp.errors import describe       # in words: "EADDRINUSE", not "OSError(112,)"
        board.log("microdhcp: no DNS (%s); DHCP goes on" % describe(x))
    web = None
    try:
        from microdhcp.web import Portal
        web = Portal(e, fmt_ip(e.server), captive=portal, clock=b.clock, dns=dns_server, dhcp=b.server,
                     port=http_port, on_credentials=on_credentials)
    except (ImportError, MemoryError) as x:
        # MemoryError: the web part needs ~64 KB of heap loaded from source, more than an ESP32
        # without PSRAM may have free (docs/portal.md, Figures); DHCP was bound already.
        board.log("microdhcp: no HTTP (%r: install microdot with mip, frozen if the heap is short, "
                  "docs/portal.md); DHCP goes on" % (x,))
    board.log("microdhcp: kit serving %s: dns %s, http %s" % (
        b.cfg.subnet_text, ("captive" if portal else "names") if dns_server else "off",
        ("port %d" % http_port) if web else "off"))
    try:
        run(b.server, dns_server, web, http_port, until, b.clock, board.log)
    finally:
        if dns_server is not None:
            dns_server.close()
        b.close()
        now = b.clock.now()
        for line in status.lease_table(e, now):
            board.log(line)
        board.log(status.counters_line(e))
