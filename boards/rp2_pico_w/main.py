# boards/rp2_pico_w/main.py: a Raspberry Pi Pico W access point whose clients get their addresses
# from microdhcp instead of the firmware's C dhcpserver. Settings: config.py. Shared: microdhcp/board.py.
import network
import socket
import config
from microdhcp import board

# Pico W (cyw43 lwIP) sends 255.255.255.255 out of the default netif, which is STA when STA is up:
# broadcast replies go to the AP's subnet broadcast instead (e.g. 192.168.4.255).
b = board.Board(config, board.make_config(config, subnet_broadcast=True), "ap")
ap = network.WLAN(network.AP_IF)
# Pico W (C dhcpserver starts in ap.active(True) and ignores its failed bind): ap.active(False)
# if the AP is up, bind UDP 67, ap.active(True). No SO_BINDTODEVICE on cyw43, so the server
# answers only MACs in ap.status("stations") (board.StationFilter). On EADDRINUSE the AP still
# comes up, served by the firmware's server, and the console and LED say why (board.fallback).
board.start_ap(b, network, socket, ap, down_first=False, pico=True)
board.run(b)
