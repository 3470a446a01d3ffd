# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.ipv4: text <-> bytes for IPv4 and MAC addresses (start-up and display only;
# every function here allocates, none is on the packet path).


def parse_ip(text, what="address"):
    # "192.168.4.1" -> bytes of length 4; ValueError that names the setting otherwise.
    if isinstance(text, (bytes, bytearray)) and len(text) == 4:
        return bytes(text)
    parts = str(text).strip().split(".")
    if len(parts) != 4:
        raise ValueError("%s %r is not an IPv4 address (write it as a.b.c.d)" % (what, text))
    out = bytearray(4)
    for i in range(4):
        p = parts[i]
        if not p or not p.isdigit() or len(p) > 3 or int(p) > 255:
            raise ValueError("%s %r is not an IPv4 address (each part must be 0-255)" % (what, text))
        out[i] = int(p)
    return bytes(out)


def fmt_ip(b, pos=0):
    return "%d.%d.%d.%d" % (b[pos], b[pos + 1], b[pos + 2], b[pos + 3])


def parse_mac(text, what="MAC"):
    # "02:00:00:00:00:01" or "02-00-..." -> 6 bytes.
    s = str(text).strip().replace("-", ":")
    parts = s.split(":")
    if len(parts) != 6:
        raise ValueError("%s %r is not a MAC address (write it as 02:00:00:00:00:01)" % (what, text))
    out = bytearray(6)
    for i in range(6):
        try:
            v = int(parts[i], 16)
        except ValueError:
            v = -1
        if len(parts[i]) not in (1, 2) or v < 0 or v > 255:
            raise ValueError("%s %r is not a MAC address (each part is two hex digits)" % (what, text))
        out[i] = v
    return bytes(out)


def fmt_hex(b, pos=0, n=-1, sep=":"):
    if n < 0:
        n = len(b) - pos
    return sep.join(["%02x" % b[pos + i] for i in range(n)])


def parse_hex(text, what="value"):
    # "01:02:0a" or "01020a" -> bytes.
    s = str(text).strip().replace(":", "").replace("-", "")
    if len(s) % 2:
        raise ValueError("%s %r: hex needs an even number of digits" % (what, text))
    out = bytearray(len(s) // 2)
    for i in range(len(out)):
        try:
            out[i] = int(s[2 * i:2 * i + 2], 16)
        except ValueError:
            raise ValueError("%s %r is not hex" % (what, text))
    return bytes(out)


def prefix_to_mask(prefix):
    m = bytearray(4)
    for i in range(4):
        bits = prefix - 8 * i
        if bits >= 8:
            m[i] = 255
        elif bits > 0:
            m[i] = (0xFF00 >> bits) & 0xFF
    return bytes(m)


def mask_to_prefix(mask):
    # Only contiguous masks are valid (RFC 950 allows others; nobody uses them).
    n = 0
    for i in range(4):
        b = mask[i]
        for bit in range(7, -1, -1):
            if b & (1 << bit):
                n += 1
            else:
                if prefix_to_mask(n) != bytes(mask):
                    raise ValueError("netmask %s is not contiguous (use e.g. 255.255.255.0)" % fmt_ip(mask))
                return n
    return n


def to_int(b):
    # Start-up only: a 32-bit value may be a heap int on a board.
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


def from_int(v):
    return bytes(((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255))
