# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/esp32_ap/config.py: the settings you edit for an ESP32 Wi-Fi access point running microdhcp.
# Copied to the board's root by `make deploy BOARD=esp32_ap PORT=...`; read by main.py at boot.

SSID = "microdhcp"                  # the access point's network name
PASSWORD = "change-me-please"       # WPA2, 8-63 characters (bytes in UTF-8); "" or None for an open AP (set explicitly)
CHANNEL = 6                         # 1-13
MAX_CLIENTS = None                  # stations the AP admits; None: ESP-IDF's default (10); at most 15

ADDRESS = "192.168.4.1/24"          # the board's address on the AP, and the subnet served
POOL = ("192.168.4.2", "192.168.4.254")   # addresses handed out (the server's own stays outside)
LEASE_TIME = 3600                   # seconds
ROUTERS = ["192.168.4.1"]           # option 3; the board itself
DNS = ["192.168.4.1"]               # option 6; e.g. the board, if it runs a captive-portal DNS
CAPTIVE_PORTAL = None               # option 114 (RFC 8910), e.g. "http://192.168.4.1/portal"
RESERVATIONS = [                    # static leases: (MAC or "id:01:..", address)
    # ("aa:bb:cc:dd:ee:ff", "192.168.4.10"),
]
LEASE_FILE = "/leases.bin"          # leases survive a reset; None keeps them in RAM only

LED_PIN = 2                         # blinks when microdhcp cannot serve (None: no LED)
REPLY_BROADCAST = None              # None: 255.255.255.255 (the socket is bound to the AP netif)
RUN_SECONDS = None                  # None: serve forever (tests set a bound)
