# MIT license; Copyright (c) 2026 the microdhcp authors
# boards/w5500_evb_pico/config.py: the settings you edit for a WIZnet W5500-EVB-Pico (RP2040 +
# W5500, MicroPython's W5500_EVB_PICO firmware, WIZNET5K in lwIP mode) serving DHCP on its wired port.

# None: the pins the W5500_EVB_PICO firmware is built with (SPI0 SCK 18, MOSI 19, MISO 16, CS 17,
# RST 20). Otherwise a dict: {"spi": 0, "sck": 18, "mosi": 19, "miso": 16, "cs": 17, "rst": 20}.
PINS = None

ADDRESS = "192.168.50.1/24"         # the board's static address on the wire, and the subnet served
POOL = ("192.168.50.100", "192.168.50.250")
LEASE_TIME = 3600                   # seconds
ROUTERS = None                      # option 3, e.g. ["192.168.50.254"] if there is a router
DNS = None                          # option 6
CAPTIVE_PORTAL = None               # option 114 (RFC 8910)
RESERVATIONS = [                    # static leases: (MAC or "id:01:..", address)
    # ("aa:bb:cc:dd:ee:ff", "192.168.50.10"),
]
LEASE_FILE = "/leases.bin"          # leases survive a reset; None keeps them in RAM only

LED_PIN = 25                        # the on-board LED (GPIO25) blinks when microdhcp cannot serve
REPLY_BROADCAST = None              # None: 255.255.255.255 (the W5500 netif is the only one, and the default)
RUN_SECONDS = None                  # None: serve forever (tests set a bound)
