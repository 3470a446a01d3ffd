# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/esp32_lan/config.py: the settings you edit for an ESP32 Ethernet board (WT32-ETH01,
# Olimex ESP32-POE / POE-ISO) serving DHCP on its wired port. Copied by `make deploy BOARD=esp32_lan`.

BOARD = "wt32-eth01"                # a key of PINSETS below
PINSETS = {
    # WT32-ETH01: LAN8720 at PHY address 1, PHY power on GPIO16, 50 MHz clock in on GPIO0.
    "wt32-eth01": {"mdc": 23, "mdio": 18, "power": 16, "phy_type": "PHY_LAN8720", "phy_addr": 1,
                   "ref_clk": None, "ref_clk_mode": None},
    # Olimex ESP32-POE / ESP32-POE-ISO: LAN8720 at address 0, power on GPIO12, clock out on GPIO17.
    "olimex-esp32-poe": {"mdc": 23, "mdio": 18, "power": 12, "phy_type": "PHY_LAN8720", "phy_addr": 0,
                         "ref_clk": 17, "ref_clk_mode": "OUT"},
}

ADDRESS = "192.168.50.1/24"         # the board's static address on the wire, and the subnet served
POOL = ("192.168.50.100", "192.168.50.250")
LEASE_TIME = 3600                   # seconds
ROUTERS = None                      # option 3, e.g. ["192.168.50.254"] if there is a router
DNS = None                          # option 6, e.g. ["192.168.50.254"]
CAPTIVE_PORTAL = None               # option 114 (RFC 8910)
RESERVATIONS = [                    # static leases: (MAC or "id:01:..", address)
    # ("aa:bb:cc:dd:ee:ff", "192.168.50.10"),
]
LEASE_FILE = "/leases.bin"          # leases survive a reset; None keeps them in RAM only

LED_PIN = None                      # neither board has a user LED; set a GPIO if you add one
REPLY_BROADCAST = None              # None: 255.255.255.255 (the socket is bound to the Ethernet netif)
RUN_SECONDS = None                  # None: serve forever (tests set a bound)
