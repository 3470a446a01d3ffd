# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/esp32_lan/main.py: an ESP32 Ethernet board (WT32-ETH01, Olimex ESP32-POE) serving DHCP
# on its wired port with microdhcp. Settings and pin sets: config.py. Shared code: microdhcp/board.py.
import socket
import machine
import network
import config
from microdhcp import board

b = board.Board(config, board.make_config(config), "eth")
p = config.PINSETS[config.BOARD]
kw = {"mdc": machine.Pin(p["mdc"]), "mdio": machine.Pin(p["mdio"]),
      "phy_type": getattr(network, str(p["phy_type"])), "phy_addr": p["phy_addr"]}
if p["power"] is not None:
    kw["power"] = machine.Pin(p["power"])
if p["ref_clk"] is not None:
    # Olimex ESP32-POE: the ESP32 drives the PHY's 50 MHz clock on GPIO17 (ref_clk_mode OUT).
    kw["ref_clk"] = machine.Pin(p["ref_clk"])
    kw["ref_clk_mode"] = getattr(machine.Pin, str(p["ref_clk_mode"]))
lan = network.LAN(**kw)
lan.active(True)
# ESP32 network.LAN starts no DHCP server: port 67 is free. SO_BINDTODEVICE keeps the server off
# the STA side if Wi-Fi is also up (a socket on ANY hears STA broadcasts).
board.start_wired(b, lan, socket, device=True)
board.run(b)
