# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/esp32_captive/main.py: an ESP32 access point with the captive-portal kit: microdhcp hands
# out addresses (option 114 pointing at the RFC 8908 API), answers every DNS name with the board,
# and serves the portal page, each OS's probe and the live status page (/status) on one asyncio
# loop. Settings: config.py. Needs microdot on the board: `mpremote mip install
# github:miguelgrinberg/microdot/src/microdot/microdot.py` (docs/portal.md).
import socket    # ESP32 bind-first sequence: socket imported before the AP object (boards/esp32_ap)
import network
import config
from microdhcp import board, kit


def got_credentials(ssid, password):
    # The portal form's answer: here the board would store them and join that network as a
    # station. This example only says so (never the password) on the console.
    board.log("portal: credentials received for %r" % ssid)


b = board.Board(config, board.make_config(config), "ap")
ap = network.WLAN(network.AP_IF)
board.start_ap(b, network, socket, ap, down_first=True, pico=False)
kit.run_board(b, portal=True, http_port=80, on_credentials=got_credentials)
