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
    tasks = [asyncio.create_task(dhcp.serve())]
    if dns is not None:
        tasks.append(asyncio.create_task(dns.serve()))
    web_task = None
    if web is not None:
        web_task = asyncio.create_task(web.app.start_server(host="0.0.0.0", port=http_port))
        tasks.append(web_task)
    reported = False
    try:
        while until is None or clock.now() < until:
            await asyncio.sleep(1)
            if web_task is not None and web_task.done() and not reported:
                reported = True
                msg = "HTTP server on port %d stopped" % http_port
                try:
                    await web_task     # done: hands back its result or raises what ended it
                except BaseException as e:  # noqa: B036 - report whatever it was, DHCP goes on
                    msg += ": %r" % (e,)
                if log:
                    log("microdhcp: %s; DHCP and DNS go on" % msg)
    finally:
        if web is not None:
            try:
                web.app.shutdown()
            except Exception:
                pass
        for t in tasks:
            t.cancel()


def run(dhcp, dns=None, web=None, http_port=80, until=None, clock=None, log=None):
    asyncio.run(serve_all(dhcp, dns, web, http_port, until, clock, log))
