# microdhcp-core: written by tools/units.py from its table; edit the table, not this file.
# version 0.2.0 (microdhcp.__version__; not in metadata(), see tools/units.py)
metadata(description="DHCPv4 server core: configuration, RFC 2131 engine, lease table, socket shell")

package("microdhcp", base_path="../..", files=[
    "__init__.py",
    "config.py",
    "configure.py",
    "ipv4.py",
    "packet.py",
    "leases.py",
    "identity.py",
    "reply.py",
    "engine.py",
    "fast.py",
    "net.py",
    "clock.py",
    "codes.py",
    "status.py",
    "errors.py",
])
