# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.fastlog: a machine-code twin (@micropython.viper) of the per-byte part of
# status.EventLog.write, for the host command's default event lines (microdhcp.__main__). That
# plain code stays the reference: it is what CPython, the boards and `--plain` test runs use, and
# host_tests/core/test_events.py builds every line both ways and compares the bytes.
#
# Why: at the ladder's rates the lines cost a fifth of the unix-port server's instructions (two
# lines per DORA, about 35k each in the interpreter, most of it the MAC's per-byte loop:
# docs/performance.md, "Serving on the unix port"). Host only (the microdhcp-host unit): a board
# writes each line to its console at once, where the UART, not this loop, sets the pace, and every
# frozen module costs a board heap and flash.
#
# The import fails on CPython (NameError: no `micropython`) and where the native emitter is
# missing (SyntaxError, or ImportError where this file is absent); __main__ then leaves the
# plain path in place.


@micropython.viper
def tail(buf, n: int, v: int, hwb, p: int, h: int, hostb, q: int) -> int:
    # EventLog.write from "the last octet" on: v (0-255) in decimal at buf[n], " ", the h bytes
    # of hwb from p as hex pairs joined by ":", then " " and the hostname (length byte at
    # hostb[q], printable ASCII, "?" for the rest) when there is one, "\n". Returns the new end.
    b = ptr8(buf)
    hw = ptr8(hwb)
    ho = ptr8(hostb)
    if v >= 100:
        b[n] = 48 + v // 100
        n += 1
    if v >= 10:
        b[n] = 48 + (v // 10) % 10
        n += 1
    b[n] = 48 + v % 10
    n += 1
    b[n] = 32
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
