# kit_memory: heap taken by each part of the captive-portal kit on the MicroPython unix port,
# as gc.mem_alloc() differences after gc.collect() (docs/portal.md "Figures"). Code is loaded from
# MICROPYPATH (source or .mpy) into RAM; a frozen build keeps it in flash instead.
#   MICROPYPATH=firmware:.frozen:build/pylib micropython tools/kit_memory.py
# and with the kit frozen into a 32-bit unix build (code out of the heap, 31-bit small ints):
#   python3 tools/build_firmware.py --kit
#   MICROPYPATH=.frozen build/firmware/micropython-32-kit tools/kit_memory.py
import gc
gc.collect(); a0 = gc.mem_alloc()
from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.net import Server
gc.collect(); a1 = gc.mem_alloc()
e = Engine(Config(address="192.168.4.1/24", pool=("192.168.4.10", "192.168.4.59")))
s = Server(e, bind=False)
gc.collect(); a2 = gc.mem_alloc()
from microdhcp import dns
from microdhcp.dnsserver import DnsServer
r = dns.Responder(dns.CAPTIVE, e.server)
d = DnsServer(r, bind=False)
gc.collect(); a3 = gc.mem_alloc()
from microdhcp.web import Portal
from microdhcp import kit
p = Portal(e, "192.168.4.1")
gc.collect(); a4 = gc.mem_alloc()
print("dhcp code %d, dhcp objects %d, dns code+objects %d, web+microdot+kit code+objects %d, total %d"
      % (a1-a0, a2-a1, a3-a2, a4-a3, a4-a0))
