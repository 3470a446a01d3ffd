# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/esp32_captive/config.py: the settings you edit for an ESP32 access point running the captive-portal kit.
# Copied to the board's root by `make deploy BOARD=esp32_captive PORT=...`; read by main.py at boot.

SSID = "microdhcp-setup"            # the access point's network name
PASSWORD = "change-me-please"       # WPA2, 8-63 characters (bytes in UTF-8); "" or None for an open AP
CHANNEL = 6                         # 1-13
MAX_CLIENTS = None                  # stations the AP admits; None: ESP-IDF's default (10); at most 15

ADDRESS = "192.168.4.1/24"          # the board's address on the AP, and the subnet served
POOL = ("192.168.4.2", "192.168.4.254")   # addresses handed out (the server's own stays outside)
LEASE_TIME = 3600                   # seconds
ROUTERS = ["192.168.4.1"]           # option 3; the board itself
DNS = ["192.168.4.1"]               # option 6: the board, whose DNS answers every name with itself
CAPTIVE_PORTAL = "http://192.168.4.1/api/captive"   # option 114 (RFC 8910): the RFC 8908 API of microdhcp.web
RESERVATIONS = [                    # static leases: (MAC or "id:01:..", address)
    # ("aa:bb:cc:dd:ee:ff", "192.168.4.10"),
]
DNS_HOSTS = [                       # names the DNS answers, before every other: (one label, address)
    # ("printer", "192.168.4.10"),  # with a reservation above, a device that sends no hostname
]
LEASE_FILE = "/leases.bin"          # leases survive a reset; None keeps them in RAM only

LED_PIN = 2                         # blinks when microdhcp cannot serve (None: no LED)
REPLY_BROADCAST = None              # None: 255.255.255.255 (the socket is bound to the AP netif)
RUN_SECONDS = None                  # None: serve forever (tests set a bound)
