# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/esp32_ap/main.py: an ESP32 Wi-Fi access point whose clients get their addresses from
# microdhcp instead of the ESP-IDF DHCP server. Settings: config.py. Shared code: microdhcp/board.py.
import socket    # the ESP32 bind-first sequence: docs/boards.md
import network
import config
from microdhcp import board

# Broadcast replies go to 255.255.255.255 (RFC 2131 4.1): the socket is bound to the AP netif
# (SO_BINDTODEVICE), so lwIP sends them out of the AP, not the default (STA) netif. Where that
# binding is impossible (firmware before v1.21) board.py switches to the subnet broadcast.
b = board.Board(config, board.make_config(config), "ap")
ap = network.WLAN(network.AP_IF)
# ESP32 (ESP-IDF dhcpserver starts with the AP and ignores its failed bind): ap.active(False),
# bind UDP 67 (EADDRINUSE retried ~2 s), ap.active(True) with the security set explicitly; then
# SO_BINDTODEVICE to ap.config("ifname"). On EADDRINUSE the AP still comes up, served by the
# ESP-IDF server, and the console says why (board.fallback).
board.start_ap(b, network, socket, ap, down_first=True, pico=False)
board.run(b)
