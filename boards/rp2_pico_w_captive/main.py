# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/rp2_pico_w_captive/main.py: a Pico W access point with the captive-portal kit: microdhcp
# (option 114 pointing at the RFC 8908 API), a catch-all DNS and the portal / status pages on one
# asyncio loop. Settings: config.py. Needs microdot on the board: `mpremote mip install
# github:miguelgrinberg/microdot/src/microdot/microdot.py` (docs/portal.md). Pico W lwIP has ~5 UDP
# pcbs in all: DHCP and DNS take two.
import network
import socket
import config
from microdhcp import board, kit


def got_credentials(ssid, password):
    # The portal form's answer: store and join as a station here; this example only says so.
    board.log("portal: credentials received for %r" % ssid)


# Broadcast replies go to 255.255.255.255 (RFC 2131 4.1): cyw43 makes the AP the default netif when
# it comes up (cyw43-driver src/cyw43_lwip.c:212), so lwIP sends them out of the AP.
b = board.Board(config, board.make_config(config), "ap")
ap = network.WLAN(network.AP_IF)
board.start_ap(b, network, socket, ap, down_first=False, pico=True)
kit.run_board(b, portal=True, http_port=80, on_credentials=got_credentials)
