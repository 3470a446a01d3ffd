# boards/esp32_ap/main.py: an ESP32 Wi-Fi access point whose clients get their addresses from
# microdhcp instead of the ESP-IDF DHCP server. Settings: config.py. Shared code: microdhcp/board.py.
import socket    # ESP32 bind-first sequence (DESIGN.md "Boards"): socket imported before the AP object
import network
import config
from microdhcp import board

# 255.255.255.255 is right here: the socket is bound to the AP netif (SO_BINDTODEVICE), so lwIP
# sends broadcasts out of the AP and not out of the default (STA) netif.
b = board.Board(config, board.make_config(config), "ap")
ap = network.WLAN(network.AP_IF)
# ESP32 (ESP-IDF dhcpserver starts with the AP and ignores its failed bind): ap.active(False),
# bind UDP 67, ap.active(True); then SO_BINDTODEVICE to ap.config("ifname"). On EADDRINUSE the
# AP still comes up, served by the ESP-IDF server, and the console says why (board.fallback).
board.start_ap(b, network, socket, ap, down_first=True, pico=False)
board.run(b)
