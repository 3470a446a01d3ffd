# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.fast: machine-code twins (@micropython.viper) of the engine's per-byte loops and of a
# few small steps whose Python call cost more than their work. Each function here does exactly
# what a plain-Python definition in packet.py, engine.py or leases.py does (named in its comment);
# that definition stays the reference, runs on CPython and wherever this module
# does not import, and host_tests/core/test_viper.py feeds random and mutated messages through
# both and compares reply bytes and table state. The selection is made once, at import of
# packet.py and engine.py (`try: ... import ... fast`): NameError on CPython (no `micropython`),
# ImportError where fast.py is absent (the portable .mpy build) and SyntaxError on a MicroPython
# without the native emitter (when compiled from .py). Nothing here allocates: viper pointers and
# machine ints only, results written into the caller's small-int arrays (no return annotations:
# the firmware carries no annotations).
# No `import micropython`: the compiler knows the decorator by name, and every module-level name
# costs heap on a board (the 32-bit frozen build's 32 KiB budget had no room for it). On CPython
# the decorator line raises NameError, which the importers catch as they catch ImportError.
# Every value stays below 2**24 (hashes) or 2**16 (offsets), so small ints on every port.
#
# No integer literal here needs more than 16 bits (0xFFFFFF is made at run time, 5381 * 33 is
# two steps): on ARMv6-M (RP2040) such a literal is loaded from a word placed in the code, at an
# offset aligned for a 4-byte aligned function (py/asmthumb.c:313-329), but tools/mpy-tool.py aligns
# frozen ARMv6-M code to 2 bytes only (lines 1260-1264): frozen in the Pico firmware, the load read
# the wrong word and the hash came out wrong (runtime-compiled code was right). docs/performance.md.


# parse() writes res[0] = 255 when the message needs what only the plain parser does (a second
# instance of an option, RFC 3396 joining in the parser's work area). It reads buf (the datagram,
# any buffer: a bytes object too) and never writes it. Literals, not const() names:
# every module-level name costs heap on a board (the 32-bit build's budget, test_firmware.py).


@micropython.viper
def parse(buf, n, track, cnt, off, lns, res):
    # packet.Request.parse + _walk (the first instance of each option; res[0] = 255 on a second
    # one). res: [error or 255, message type, overload]. n is at most codes.RX_MAX (checked
    # here too: a bigger n goes to the plain parser, which owns the bounds).
    b = ptr8(buf)
    tr = ptr8(track)
    c = ptr8(cnt)
    of = ptr16(off)
    ln = ptr16(lns)
    r = ptr32(res)
    m = int(n)
    i = 0
    while i < 10:
        c[i] = 0
        i += 1
    r[1] = 0
    r[2] = 0
    if m < 0 or m > 1500:
        r[0] = 255   # plain parser
        return
    if m < 240:
        r[0] = 1        # E_SHORT
        return
    if b[0] != 1:
        r[0] = 2        # E_NOT_REQUEST
        return
    if b[2] > 16:
        r[0] = 3        # E_HLEN
        return
    if b[236] != 99 or b[237] != 130 or b[238] != 83 or b[239] != 99:
        r[0] = 4        # E_COOKIE
        return
    # The options field, then with overload (RFC 2132 9.3) 'file' before 'sname' (RFC 2131 4.1).
    ov = 0
    field = 0
    pos = 240
    end = m
    while True:
        while pos < end:
            cd = b[pos]
            if cd == 0:
                pos += 1
                continue
            if cd == 255:
                break
            if pos + 1 >= end:
                r[0] = 5    # E_OPTION
                r[2] = ov
                return
            k = b[pos + 1]
            v = pos + 2
            if v + k > end:
                r[0] = 5
                r[2] = ov
                return
            if cd == 52:
                if field == 0:
                    if k != 1 or b[v] < 1 or b[v] > 3:
                        r[0] = 7    # E_BAD_LEN
                        r[2] = ov
                        return
                    ov = b[v]
            else:
                t = tr[cd]
                if t:
                    t -= 1
                    if c[t]:
                        r[0] = 255   # plain parser
                        return
                    of[t] = v
                    ln[t] = k
                    c[t] = 1
            pos = v + k
        if field == 0 and ov & 1:
            field = 1
            pos = 108
            end = 236
        elif field < 2 and ov & 2:
            field = 2
            pos = 44
            end = 108
        else:
            break
    r[2] = ov
    # packet.parse's fixed-length checks, in its order (indexes of packet.TRACKED)
    if (c[1] and ln[1] != 4) or (c[2] and ln[2] != 4):
        r[0] = 7
        return
    if c[3] and ln[3] != 1:
        r[0] = 6            # E_NO_TYPE
        return
    if (c[4] and ln[4] != 4) or (c[6] and ln[6] != 2) or (c[8] and ln[8] != 0):
        r[0] = 7
        return
    if c[7] and ln[7] < 2:
        r[0] = 7
        return
    if not c[7] and not b[2]:
        r[0] = 3        # E_HLEN: hlen 0 without option 61 (RFC 4390 2.1)
        return
    if not c[3]:
        r[0] = 6
        return
    t = b[of[3]]
    if t < 1 or t > 8:
        r[0] = 6
        return
    r[1] = t
    r[0] = 0


@micropython.viper
def ident(buf, o, n, kbuf, table, res):
    # engine._identify's key and look-up. o > 0: the client id, option 61's n bytes at buf[o:];
    # o == 0: htype + chaddr[:hlen] (engine._hw_key). Writes the identity into kbuf (length byte
    # first), res[3] = its h24 hash, res[4] = the OR of id[1:] ^ chaddr[:n - 1] (0: the id is
    # htype + chaddr's head; client id only), then LeaseTable.find for keys kept in the hw field:
    # res[5] = the slot, -1 (none) or -2 when the probe meets a key kept in the arena (the
    # plain find compares those).
    b = ptr8(buf)
    kb = ptr8(kbuf)
    r = ptr32(res)
    mk = 1
    mk = (mk << 24) - 1     # 0xFFFFFF without a 24-bit literal (see the top)
    p = int(o)
    h = 5381
    x = 0
    if p:
        k = int(n)
        kb[0] = k
        v = b[p]
        kb[1] = v
        h = ((h * 33) ^ v) & mk
        i = 1
        while i < k:
            v = b[p + i]
            kb[1 + i] = v
            h = ((h * 33) ^ v) & mk
            x |= v ^ b[27 + i]
            i += 1
    else:
        k = b[2]
        kb[0] = k + 1
        v = b[1]
        kb[1] = v
        h = ((h * 33) ^ v) & mk
        i = 0
        while i < k:
            v = b[28 + i]
            kb[2 + i] = v
            h = ((h * 33) ^ v) & mk
            i += 1
    r[3] = h
    r[4] = x
    # find: the home bucket (leases.home written out), then linear probing
    ix8 = ptr8(table.index)
    ix16 = ptr16(table.index)
    fl = ptr8(table.flags)
    hp = ptr8(table.hw)
    w = int(table.wide)
    m = int(table.imask)
    kn = kb[0]
    last = kb[kn]
    lo = h & 0xFFF
    i = ((lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)) & mk) >> int(table.ishift)
    while True:
        if w:
            e = ix16[i]
        else:
            e = ix8[i]
        if e == 0:
            r[5] = -1
            return
        s = e - 1
        f = fl[s]
        if f & 2:       # leases._F_KEY_HW
            if (f >> 3) + 1 == kn and hp[s * 7 + kn - 1] == last:
                q = s * 7 - 1
                j = 1
                while j < kn and hp[q + j] == kb[j]:
                    j += 1
                if j >= kn:
                    r[5] = s
                    return
        elif f & 4:     # leases._F_KEY_ARENA
            r[5] = -2
            return
        i = (i + 1) & m


@micropython.viper
def options(eng, tx, pos, limit, req):
    # engine._put_params (called by _reply itself, one Python call less per reply): the next
    # generation of the engine's marks (_gen, _mark), then the options listed in option 55 (RFC
    # 2132 9.8) in its order, each once, then the always-sent ones not listed; an option that
    # does not fit whole is left out. The engine's encoded options (_enc, a list of bytes) and
    # their index (_oix, up to the highest configured code); req.res[6] = the new pos.
    b = ptr8(req.buf)
    t = ptr8(tx)
    ix = ptr8(eng._oix)
    nix = int(len(eng._oix))
    mk = ptr8(eng._mark)
    enc = eng._enc
    p = int(pos)
    lim = int(limit)
    g = int(eng._gen) + 1
    if g > 255:
        i = 0
        nm = int(len(eng._mark))
        while i < nm:
            mk[i] = 0
            i += 1
        g = 1
    eng._gen = g
    cnt = ptr8(req.cnt)
    i = 0
    end = 0
    if cnt[5]:      # codes.PRL
        of = ptr16(req.off)
        ln = ptr16(req.ln)
        i = of[5]
        end = i + ln[5]
    while i < end:
        code = b[i]
        i += 1
        j = 0
        if code < nix:      # past _oix's end: not configured
            j = ix[code]
        if j and mk[j] != g:
            mk[j] = g
            e = enc[j - 1]
            k = int(len(e))
            if p + k <= lim:
                v = ptr8(e)
                q = 0
                while q < k:
                    t[p + q] = v[q]
                    q += 1
                p += k
    always = eng.always
    na = int(len(always))
    a = 0
    while a < na:
        j = ix[int(always[a])]
        a += 1
        if mk[j] != g:
            e = enc[j - 1]
            k = int(len(e))
            if p + k <= lim:
                v = ptr8(e)
                q = 0
                while q < k:
                    t[p + q] = v[q]
                    q += 1
                p += k
    r = ptr32(req.res)
    r[6] = p


@micropython.viper
def head(rx, tx, ciaddr):
    # engine._reply's header (RFC 2131 Table 3): op BOOTREPLY, htype and hlen echoed, xid, flags,
    # giaddr and chaddr copied; ciaddr copied when ciaddr is true. What _reply's pack_into copies
    # from views do.
    b = ptr8(rx)
    t = ptr8(tx)
    t[0] = 2
    t[1] = b[1]
    t[2] = b[2]
    t[4] = b[4]
    t[5] = b[5]
    t[6] = b[6]
    t[7] = b[7]
    t[10] = b[10]
    t[11] = b[11]
    i = 24
    while i < 44:
        t[i] = b[i]
        i += 1
    if ciaddr:
        t[12] = b[12]
        t[13] = b[13]
        t[14] = b[14]
        t[15] = b[15]


@micropython.viper
def timer(table, s, t):
    # leases.LeaseTable.set_timer with its sift (_up or _down) written in: slot s's timer set to
    # t (a new one pushed on the expiry heap), the heap kept a min-heap by expiry. Times are
    # seconds since boot, 0 <= t <= codes.NEVER (< 2**30); anything else, or a heap whose
    # least time is not (a negative one: ptr32 reads it unsigned on a 64-bit host), goes to
    # the plain set_timer.
    # s < 0 stops slot -1 - s's timer instead (~s: leases.LeaseTable.clear_timer, t unused: 0):
    # the heap's last entry moves into the hole and takes the same sift. One function for both,
    # not a second twin: the sift's machine code is shared (flash) and fast.py gains no global
    # name (heap on a board, see the top). A heap whose least time is not in 0..NEVER goes to
    # the plain clear_timer.
    ex = ptr32(table.expiry)
    hp8 = ptr8(table.heap)
    hp16 = ptr16(table.heap)
    ps8 = ptr8(table.hpos)
    ps16 = ptr16(table.hpos)
    w = int(table.wide)
    n = int(table.hsize)
    ss = int(s)
    tt = int(t)
    nv = 1
    nv = (nv << 30) - 1     # codes.NEVER without a 30-bit literal (see the top)
    if n:
        if w:
            v = ex[hp16[0]]
        else:
            v = ex[hp8[0]]
    else:
        v = 0
    if tt < 0 or tt > nv or v < 0 or v > nv:
        if ss < 0:
            table.clear_timer(-1 - ss)
        else:
            table.set_timer(s, t)
        return
    if ss < 0:
        # clear_timer: hpos cleared, the heap's last entry m moved into the hole i, then _up(i)
        # and _down; heap[last] keeps m, as the plain code leaves it.
        ss = -1 - ss
        if w:
            q = ps16[ss]
            ps16[ss] = 0
        else:
            q = ps8[ss]
            ps8[ss] = 0
        if not q:
            return
        i = q - 1
        n -= 1
        table.hsize = n
        if i == n:
            return
        if w:
            ss = hp16[n]
        else:
            ss = hp8[n]
        tt = ex[ss]
    else:
        if w:
            q = ps16[ss]
        else:
            q = ps8[ss]
        if q:
            i = q - 1
            if ex[ss] == tt:
                return
        else:
            i = n
            n += 1
            table.hsize = n
        ex[ss] = tt
    # One sift, chosen by the parent: up when it is due after tt, else down. What the plain code
    # does in each case: a timer moved earlier (_up; with its parent due no later, _up moves
    # nothing and no child is due before the old time, so neither does _down), moved later (its
    # parent is due no later than the old time: _down), a new entry at the end (_up when its
    # parent is due later; else no child, so _down stops at once), clear_timer's moved entry
    # (_up, then _down, which moves nothing after an _up that moved it).
    up = 0
    if i:
        if w:
            v = ex[hp16[(i - 1) >> 1]]
        else:
            v = ex[hp8[(i - 1) >> 1]]
        if v > tt:
            up = 1
    if up:
        # _up: move parents down until one is due no later than tt
        while i:
            p = (i - 1) >> 1
            if w:
                e = hp16[p]
            else:
                e = hp8[p]
            if ex[e] <= tt:
                break
            if w:
                hp16[i] = e
                ps16[e] = i + 1
            else:
                hp8[i] = e
                ps8[e] = i + 1
            i = p
    else:
        # _down: move the earlier child up while it is due before tt
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if w:
                e = hp16[c]
            else:
                e = hp8[c]
            if c + 1 < n:
                if w:
                    f = hp16[c + 1]
                else:
                    f = hp8[c + 1]
                if ex[f] < ex[e]:
                    c += 1
                    e = f
            if ex[e] >= tt:
                break
            if w:
                hp16[i] = e
                ps16[e] = i + 1
            else:
                hp8[i] = e
                ps8[e] = i + 1
            i = c
    if w:
        hp16[i] = ss
        ps16[ss] = i + 1
    else:
        hp8[i] = ss
        ps8[ss] = i + 1


@micropython.viper
def unkey(table, s):
    # leases.LeaseTable.clear_key's index part when slot s's key and every key in its probe chain
    # are kept in the hw field: backward-shift deletion (no tombstones), then slot s's key flags
    # cleared. Otherwise it changes nothing and the plain clear_key does it all (the caller
    # sees the flags still set).
    fl = ptr8(table.flags)
    hp = ptr8(table.hw)
    ix8 = ptr8(table.index)
    ix16 = ptr16(table.index)
    w = int(table.wide)
    m = int(table.imask)
    sh = int(table.ishift)
    mk = 1
    mk = (mk << 24) - 1     # 0xFFFFFF without a 24-bit literal (see the top)
    ss = int(s)
    f = fl[ss]
    if not (f & 2):         # leases._F_KEY_HW
        return
    # h24 of the slot's key, then its home bucket and its entry
    p = ss * 7
    e = p + (f >> 3) + 1
    h = 5381
    while p < e:
        h = ((h * 33) ^ hp[p]) & mk
        p += 1
    lo = h & 0xFFF
    i = ((lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)) & mk) >> sh
    while True:
        if w:
            v = ix16[i]
        else:
            v = ix8[i]
        if v == ss + 1:
            break
        i = (i + 1) & m
    # every key after it in the chain must be in the hw field too, else the plain code runs
    j = i
    while True:
        j = (j + 1) & m
        if w:
            v = ix16[j]
        else:
            v = ix8[j]
        if v == 0:
            break
        if not (fl[v - 1] & 2):
            return
    j = i
    while True:
        j = (j + 1) & m
        if w:
            v = ix16[j]
        else:
            v = ix8[j]
        if v == 0:
            break
        g = fl[v - 1]
        p = (v - 1) * 7
        e = p + (g >> 3) + 1
        h = 5381
        while p < e:
            h = ((h * 33) ^ hp[p]) & mk
            p += 1
        lo = h & 0xFFF
        k = ((lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)) & mk) >> sh
        # move entry v back into hole i unless its home k lies cyclically in (i, j]
        if (j > i and (k <= i or k > j)) or (j < i and (k <= i and k > j)):
            if w:
                ix16[i] = v
            else:
                ix8[i] = v
            i = j
    if w:
        ix16[i] = 0
    else:
        ix8[i] = 0
    fl[ss] = f & 0xF9       # & ~leases._F_KEYED
