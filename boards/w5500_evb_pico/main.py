# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/w5500_evb_pico/main.py: a WIZnet W5500-EVB-Pico serving DHCP on its wired port with
# microdhcp (W5500_EVB_PICO firmware, WIZNET5K in lwIP mode). Settings: config.py. Shared: board.py.
import socket
import machine
import network
import config
from microdhcp import board

# Broadcast replies go to 255.255.255.255 (RFC 2131 4.1): the WIZNET5K netif is the board's only
# one and its default (extmod/network_wiznet5k.c:334), so lwIP sends them out of it.
b = board.Board(config, board.make_config(config), "eth")
p = config.PINS
if p is None:
    # W5500_EVB_PICO firmware: SPI bus and pins come from the board definition. (type: ignore: the
    # rp2 stubs are generated from the RPI_PICO_W build, which has no WIZNET5K; this firmware has.)
    nic = network.WIZNET5K()  # type: ignore[attr-defined]
else:
    spi = machine.SPI(p["spi"], 2000000, sck=machine.Pin(p["sck"]), mosi=machine.Pin(p["mosi"]),
                      miso=machine.Pin(p["miso"]))
    nic = network.WIZNET5K(spi, machine.Pin(p["cs"]), machine.Pin(p["rst"]))
nic.active(True)
# WIZNET5K in lwIP mode starts no DHCP server: port 67 is free. Single netif: no device binding.
board.start_wired(b, nic, socket, device=False)
board.run(b)
