# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.fastlog: a machine-code twin (@micropython.viper) of status.EventLog.write's OFFER,
# ACK and renewal lines, for the host command's default event lines (microdhcp.__main__). That
# plain code stays the reference: it is what CPython, the boards and `--plain` test runs use, and
# host_tests/core/test_events.py builds every line both ways and compares the bytes.
#
# Why: at the ladder's rates the lines were a large share of the unix-port server's instructions
# (two lines per DORA, ~20k each in the interpreter even with the MAC's loop in machine code:
# attribute look-ups, the prefix's pack_into, the address, three calls; docs/performance.md, "The
# event lines"). Here a line is one call. Host only (the microdhcp-host unit): a board writes each
# line to its console at once, where the UART, not this code, sets the pace, and every frozen
# module costs a board heap and flash.
#
# The import fails on CPython (ImportError: no `micropython` module) and where the native
# emitter is missing (SyntaxError, or ImportError where this file is absent); __main__ then
# leaves the plain path in place.

from micropython import const

# geo (array "i", made by geometry() below): what a line needs of the table and the subnet, fixed
# for an engine's life (LeaseTable and Config never change them after construction).
_G_POOL_FIRST = const(0)    # host offset of pool slot 0
_G_POOL_SIZE = const(1)     # slots below this are pool slots, the rest index table.extra
_G_NET3 = const(2)          # 1: /24 or smaller, the prefix holds the first three octets
_G_NET = const(3)           # 3..6: the network's four octets
_G_NET_LAST = const(6)
_G_HOST_LEN = const(7)      # table.host_len: a hostname's length byte and room
# leases' table layout (leases._HW_SIZE, _HW_ROOM, _HLEN_SHIFT): htype + 6 chaddr bytes per
# slot, hlen in the flags' bits 3-7
_HW_SIZE = const(7)
_HW_ROOM = const(6)
_HLEN_SHIFT = const(3)


def geometry(table, network, net3):
    # The geo array for line(), from the engine's table and cfg.network (4 bytes).
    from array import array
    return array("i", (table.pool_first, table.pool_size, 1 if net3 else 0, network[0], network[1],
                       network[2], network[3], table.host_len))


@micropython.viper
def line(buf, n: int, pre, slot: int, geo, extra, flags, hwb, hostb) -> int:
    # One line at buf[n]: pre ("NAME(iface) ", then "a.b.c." in a /24 or smaller), the lease's
    # address, " ", its hardware address (at most 6 bytes kept, htype before them in hwb, hlen in
    # the flags' bits 3-7) as hex pairs joined by ":", " " and the hostname (length byte first,
    # printable ASCII, "?" for the rest) when there is one, "\n". Returns the new end. The same
    # bytes as status.EventLog.write, which reads the same table fields.
    b = ptr8(buf)
    g = ptr32(geo)
    pr = ptr8(pre)
    k = int(len(pre))
    i = 0
    while i < k:
        b[n] = pr[i]
        n += 1
        i += 1
    # the host offset of the slot's address (LeaseTable.offset_of)
    size = g[_G_POOL_SIZE]
    if slot < size:
        off = g[_G_POOL_FIRST] + slot
    else:
        off = ptr32(extra)[slot - size]
    # the octets not in the prefix: beyond a /24 all four ("d." after each but the last), else the
    # last one; octet j (_G_NET.._G_NET_LAST in geo) is the network's | the offset's bits at shift sh
    if g[_G_NET3]:
        j = _G_NET_LAST
        sh = 0
    else:
        j = _G_NET
        sh = 24
    while j <= _G_NET_LAST:
        v = g[j] | ((off >> sh) & 255)
        if v >= 100:
            b[n] = 48 + v // 100
            n += 1
        if v >= 10:
            b[n] = 48 + (v // 10) % 10
            n += 1
        b[n] = 48 + v % 10
        n += 1
        if j < _G_NET_LAST:
            b[n] = 46
            n += 1
        sh -= 8
        j += 1
    b[n] = 32
    # hardware address: hlen from the flags, at most the 6 bytes the table keeps
    h = int(ptr8(flags)[slot]) >> _HLEN_SHIFT
    if h > _HW_ROOM:
        h = _HW_ROOM
    hw = ptr8(hwb)
    p = slot * _HW_SIZE + 1
    e = p + h
    while p < e:
        x = hw[p]
        d = x >> 4
        b[n + 1] = d + 48 if d < 10 else d + 87     # "0"-"9", "a"-"f" as status._HEX
        d = x & 15
        b[n + 2] = d + 48 if d < 10 else d + 87
        b[n + 3] = 58
        n += 3
        p += 1
    if h:
        n += 1      # the last ":" becomes the separator before the hostname, or the newline
    else:
        n += 2      # no MAC: event_line's empty field between two spaces
    ho = ptr8(hostb)
    q = slot * g[_G_HOST_LEN]
    m = ho[q]
    if m:
        b[n - 1] = 32
        i = q + 1
        e = i + m
        while i < e:
            c = ho[i]
            b[n] = c if 32 <= c < 127 else 63
            n += 1
            i += 1
        n += 1
    b[n - 1] = 10
    return n
