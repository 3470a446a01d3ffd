# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp: a DHCPv4 server for MicroPython boards and CPython (RFC 2131/2132).
# Kept empty of imports so that `import microdhcp.engine` loads only what it needs.
__version__ = "0.2.0"
