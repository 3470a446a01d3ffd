# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/rp2_pico_w/main.py: a Raspberry Pi Pico W access point whose clients get their addresses
# from microdhcp instead of the firmware's C dhcpserver. Settings: config.py. Shared: microdhcp/board.py.
import network
import socket
import config
from microdhcp import board

# Broadcast replies go to 255.255.255.255 (RFC 2131 4.1): cyw43 makes the AP the default netif when
# it comes up (cyw43-driver src/cyw43_lwip.c:212), so lwIP sends them out of the AP.
b = board.Board(config, board.make_config(config), "ap")
ap = network.WLAN(network.AP_IF)
# Pico W (C dhcpserver starts in ap.active(True) and ignores its failed bind): ap.active(False)
# if the AP is up, bind UDP 67, ap.active(True) with the security set explicitly (an empty
# PASSWORD means open; cyw43 would otherwise keep WPA2 "picoW123"). No SO_BINDTODEVICE, so it
# answers only MACs in ap.status("stations") (board.StationFilter). On EADDRINUSE the AP still
# comes up, served by the firmware's server, and the console and LED say why (board.fallback).
board.start_ap(b, network, socket, ap, down_first=False, pico=True)
board.run(b)
