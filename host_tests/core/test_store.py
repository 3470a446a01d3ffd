# test_store: the lease file (microdhcp.store) under fault injection. Runs under pytest and
# `micropython host_tests/mp_runner.py store`: plain test functions, temp files under /tmp.
import os
from binascii import crc32
import harness as h
import dhcpkit as k
from microdhcp import status
from microdhcp import store as S
from microdhcp.store import LeaseStore
from microdhcp.codes import FREE, BOUND, RELEASED, EXPIRED, DECLINED, RESERVED, HW_SIZE, STATE_NAMES, NEVER
import invariants as inv
from tmpfiles import TmpDir, exists
from invariants import key_of

RES_OUT = 50     # client reserved outside the pool (.30)
RES_IN = 51      # client reserved inside the pool (.12)
CFG = {"reservations": [("02:00:00:00:00:32", "192.168.4.30"), ("02:00:00:00:00:33", "192.168.4.12")]}
R = S.record_size(16)   # 103 bytes with the default hostname_len=15


# --- helpers --------------------------------------------------------------------------------
def read(p):
    with open(p, "rb") as f:
        return f.read()


def write(p, data):
    with open(p, "wb") as f:
        f.write(data)


def new_engine(**cfg):
    for key in CFG:
        cfg.setdefault(key, CFG[key])
    return h.engine(**cfg)


def opened(path, now=0, **kw):
    """A fresh engine with a store loaded from path; returns (engine, store)."""
    e = new_engine(**kw.pop("cfg", {}))
    st = LeaseStore(path, e, **kw)
    st.load(now)
    return e, st


def snap(e):
    """The durable view of a table: per slot (state, key, hw, hostname); a free slot without a
    client is just FREE, however it got free (its stale hw bytes mean nothing). An offer is not durable: FREE + key."""
    t = e.table
    out = []
    for s in range(t.capacity):
        st = t.state[s]
        key = key_of(t, s)
        if (st == FREE or st == RELEASED or st == EXPIRED) and key[0] == 0:
            out.append((FREE,))
            continue
        if st == 1:   # OFFERED
            st = FREE
        q = s * t.host_len
        hl = t.hlen(s)
        hw = bytes(t.hw[s * HW_SIZE:s * HW_SIZE + 1 + min(hl, 6)])
        out.append((st, key, hl, hw, bytes(t.host[q:q + 1 + t.host[q]])))
    return out


def show(sn):
    return ["%d:%s" % (i, STATE_NAMES[x[0]]) for i, x in enumerate(sn) if x[0] != FREE or len(x) > 1]


def addr(n):
    return k.ip("192.168.4.%d" % n)


def name(c):
    return ((12, b"dev%d" % c),)


def bound_addr(e, c):
    # Address (4 bytes) of client c's BOUND slot, else None.
    for a, mac, cid, host, state, left in status.leases(e, 0):
        if state == "bound" and mac == "02:00:00:00:%02x:%02x" % ((c >> 8) & 255, c & 255):
            return k.ip(a)
    return None


def history_run(path):
    """Runs a scenario with every kind of commit; returns (engine, store, snapshots) where
    snapshots[j] is the durable view after j commits (snapshots[0]: the empty start)."""
    e, st = opened(path)
    snaps = [snap(e)]
    st.base = st.count     # the start-up file already holds the reservations' slots

    def commit(slot, now):
        st.commit(slot, now)
        snaps.append(snap(e))
    e.on_commit = commit
    now = 10
    for c in (1, 2, 3, 4):
        h.dora(e, c, now, name(c))
    a2 = bound_addr(e, 2)
    h.release(e, 2, a2, now)                         # RELEASED, key kept
    h.dora(e, 5, now, name(5))
    a3 = bound_addr(e, 3)
    assert h.decline(e, 3, a3, now) is None          # DECLINED, key cleared
    h.dora(e, RES_OUT, now, name(RES_OUT))           # reservation outside the pool
    h.dora(e, RES_IN, now, name(RES_IN))             # reservation inside the pool
    h.release(e, RES_OUT, addr(30), now)             # back to RESERVED
    ack = h.dora(e, 2, now)                          # gets its released address back
    assert ack["yiaddr"] == a2
    a1 = bound_addr(e, 1)
    h.release(e, 1, a1, now)
    ack = h.send(e, k.msg(k.REQUEST, 6, ((50, a1),) + name(6)), now)   # INIT-REBOOT onto 1's address
    assert ack["type"] == k.ACK and ack["yiaddr"] == a1
    h.release(e, 2, a2, now)
    moved = None
    for x in range(19, 9, -1):
        a = addr(x)
        if e.table.state[e.table.slot_of(e.cfg.offset(a))] == FREE and not e.table.has_key(e.table.slot_of(e.cfg.offset(a))):
            moved = a
            break
    ack = h.send(e, k.msg(k.REQUEST, 2, ((50, moved),)), now)   # client 2 moves: its old slot is forgotten in RAM only
    assert ack["type"] == k.ACK and ack["yiaddr"] == moved, ack
    h.dora(e, 7, now, ((12, b"a-very-long-hostname-cut"),))
    h.release(e, 5, bound_addr(e, 5), now)          # stays RELEASED with its key
    return e, st, snaps


# --- tests ----------------------------------------------------------------------------------
def test_round_trip_every_state():
    d = TmpDir()
    try:
        e, st, snaps = history_run(d.file())
        states = set(x[0] for x in snaps[-1])
        for want in (BOUND, RELEASED, DECLINED, RESERVED):
            assert want in states, STATE_NAMES[want]
        n = len(snaps) - 1
        assert st.count == st.base + n and n >= 14
        assert len(read(d.file())) == S.HEADER_SIZE + st.count * R
        st.close()
        e2, st2 = opened(d.file(), now=500)
        assert st2.loaded == st.count and st2.corrupt == 0 and st2.skipped == 0, st2.message
        assert snap(e2) == snaps[-1], (show(snap(e2)), show(snaps[-1]))
        # No RTC: bound leases and quarantines are held for their whole time from boot.
        for s in range(e2.table.capacity):
            if e2.table.state[s] == BOUND:
                assert e2.table.expiry[s] == 500 + e2.cfg.lease_time
            if e2.table.state[s] == DECLINED:
                assert e2.table.expiry[s] == 500 + e2.cfg.decline_hold
        # A clean file is appended to, not rewritten, at boot.
        assert st2.writes == 0 and not exists(d.file() + ".bad")
        # The reloaded server behaves as before: client 2 renews its moved address, client 6 its own.
        ack = h.renew(e2, 2, bound_addr(e2, 2), 600)
        assert ack["type"] == k.ACK and ack["yiaddr"] == bound_addr(e2, 2)
        ack = h.renew(e2, 6, bound_addr(e2, 6), 600)
        assert ack["type"] == k.ACK
        assert st2.writes == 0          # a renewal does not write
        st2.close()
    finally:
        d.clean()


def check_loaded(e, st, snaps):
    # Every slot holds a content it really had at some point (no invented state) and a client
    # is in one slot only.
    sn = snap(e)
    for s in range(len(sn)):
        assert any(x[s] == sn[s] for x in snaps), "slot %d: %r never existed" % (s, sn[s])
    keys = [x[1] for x in sn if len(x) > 1 and x[1][0]]
    assert len(keys) == len(set(keys)), "a client in two slots"
    return sn


def test_truncate_at_every_offset():
    d = TmpDir()
    try:
        e, st, snaps = history_run(d.file())
        st.close()
        good = read(d.file())
        nrec = (len(good) - S.HEADER_SIZE) // R
        p = d.file("t")
        loads = 0
        for cut in range(len(good) + 1):
            write(p, good[:cut])
            for f in (p + ".bad", p + ".tmp"):
                if exists(f):
                    os.remove(f)
            e2, st2 = opened(p, now=100)
            loads += 1
            j = (cut - S.HEADER_SIZE) // R - st.base if cut >= S.HEADER_SIZE else 0
            j = j if j > 0 else 0
            sn = check_loaded(e2, st2, snaps)
            # A cut file is a prefix of the journal: exactly the state after the whole records.
            assert sn == snaps[j], "cut at %d: %r != %r" % (cut, show(sn), show(snaps[j]))
            if cut == 0:
                # Nothing of the file left: an empty file is a new store, not damage.
                assert st2.corrupt == 0 and not exists(p + ".bad")
            elif cut >= S.HEADER_SIZE and (cut - S.HEADER_SIZE) % R == 0:
                # Cut at a record boundary: a valid, shorter journal (an earlier state).
                assert st2.corrupt == 0 and not exists(p + ".bad")
            else:
                assert st2.corrupt > 0 and exists(p + ".bad") and read(p + ".bad") == good[:cut], cut
                assert "damaged" in st2.message
            # The server starts and keeps working on the rewritten file, which is clean.
            ack = h.dora(e2, 99, 200)
            slot = e2.table.slot_of(e2.cfg.offset(ack["yiaddr"]))
            assert sn[slot][0] not in (BOUND, DECLINED, RESERVED), "offered a held address"
            st2.close()
            e3, st3 = opened(p, now=300)
            assert st3.corrupt == 0 and snap(e3) == snap(e2), st3.message
            assert bound_addr(e3, 99) == ack["yiaddr"]
            st3.close()
        assert loads == len(good) + 1 and nrec == st.base + len(snaps) - 1
        print("store: %d truncations of a %d-byte file, all recovered" % (loads, len(good)))
    finally:
        d.clean()


def _without(data, i):
    a = S.HEADER_SIZE + i * R
    return data[:a] + data[a + R:]


def test_corrupt_every_byte():
    d = TmpDir()
    try:
        e, st, snaps = history_run(d.file())
        st.close()
        good = read(d.file())
        final = snaps[-1]
        p = d.file("c")
        q = d.file("ref")
        loads = 0
        for pos in range(len(good)):
            i = (pos - S.HEADER_SIZE) // R if pos >= S.HEADER_SIZE else -1
            if i >= 0 and i < st.base:
                i = -1           # a start-up reservation record: the config restores it
            if i >= 0:
                write(q, _without(good, i))
                e_ref, st_ref = opened(q, now=100)
                ref = snap(e_ref)
                st_ref.close()
            else:
                ref = final      # a bad header: records are still read with today's size
            for flip in (1 << (pos & 7), 0xFF):
                bad = bytearray(good)
                bad[pos] ^= flip
                write(p, bad)
                if exists(p + ".bad"):
                    os.remove(p + ".bad")
                e2, st2 = opened(p, now=100)
                loads += 1
                sn = check_loaded(e2, st2, snaps)
                # Only the damaged record is lost: the state equals the journal without it.
                assert sn == ref, "flip at %d: %r != %r" % (pos, show(sn), show(ref))
                assert st2.corrupt >= 1 and exists(p + ".bad")
                # Every ACKed binding in another record survives (the one hit may be lost).
                lost = [s for s in range(len(final)) if final[s][0] == BOUND and sn[s] != final[s]]
                assert len(lost) <= 1, (pos, lost)
                st2.close()
        assert loads == 2 * len(good)
        print("store: %d corruptions (2 per byte of %d) loaded, none invented state" % (loads, len(good)))
    finally:
        d.clean()


def test_garbage_files_start_clean():
    d = TmpDir()
    try:
        p = d.file()
        for data in (b"\x00" * 500, b"hello, this is not a lease file\n" * 20, bytes(range(256)) * 3):
            write(p, data)
            e, st = opened(p)
            assert st.loaded == 0 and exists(p + ".bad"), st.message
            assert h.dora(e, 1, 0)["type"] == k.ACK
            st.close()
            e, st = opened(p)
            assert st.corrupt == 0 and bound_addr(e, 1) is not None
            st.close()
            os.remove(p + ".bad")
    finally:
        d.clean()


def _v1_file(records, host_len=16):
    """A lease file as the first release wrote it (version 1, docs/leases.md): the same header
    with version 1; records of 52 + host_len bytes: tag, state, address, seconds left (big-endian),
    identity in 20 bytes (length + up to 19 bytes; a longer one as 16 bytes + a 24-bit hash),
    htype, hlen, chaddr[16], the host field, CRC-32 little-endian. records: (state, last address
    byte, left, identity, hostname) with identity b"" for none."""
    def crc_le(b):
        c = crc32(b)
        return bytes((c & 255, (c >> 8) & 255, (c >> 16) & 255, (c >> 24) & 255))
    hdr = bytearray(S.MAGIC + bytes((1, host_len)) + bytes(6))
    out = bytearray(hdr + crc_le(hdr))
    for state, last, left, ident, host in records:
        r = bytearray(b"L" + bytes((state,)) + addr(last)
                      + bytes(((left >> 24) & 255, (left >> 16) & 255, (left >> 8) & 255, left & 255)))
        key = bytearray(20)
        key[0] = min(len(ident), 255)
        if len(ident) <= 19:
            key[1:1 + len(ident)] = ident
        else:
            key[1:17] = ident[:16]          # (the old hash in 17..19 is not needed here)
        r.extend(key)
        hw = bytearray(18)
        if ident[:1] == b"\x01" and len(ident) == 7:
            hw[0:2] = b"\x01\x06"
            hw[2:8] = ident[1:]
        r.extend(hw)
        hf = bytearray(host_len)
        hf[0] = len(host)
        hf[1:1 + len(host)] = host
        r.extend(hf)
        r.extend(crc_le(r))
        out.extend(r)
    return bytes(out)


def test_version1_file_is_converted():
    """A lease file of the first release (version 1) is loaded and rewritten as version 2, not
    set aside as damaged: leases, declines and remembered clients come back; an identity that
    version 1 kept cut (over 19 bytes) cannot be restored, so its address is loaded free."""
    long_id = b"\xff" + bytes(range(1, 25))                  # 25 bytes: kept cut by version 1
    cid10 = b"\x00" + b"sensor-10"                           # 10 bytes: kept whole
    d = TmpDir()
    try:
        p = d.file()
        write(p, _v1_file([
            (BOUND, 10, 3000, b"\x01" + k.mac(1), b"dev1"),
            (BOUND, 11, 3000, long_id, b"longid"),
            (DECLINED, 13, 100, b"", b""),
            (RELEASED, 14, 0, cid10, b"dev10"),
        ]))
        e, st = opened(p)
        assert st.loaded == 4 and st.corrupt == 0 and not exists(p + ".bad"), st.message
        assert "converted from lease file version 1" in st.message, st.message
        t = e.table
        assert bound_addr(e, 1) == addr(10)
        s10 = t.slot_of(10)
        assert key_of(t, s10) == b"\x07\x01" + k.mac(1)
        assert bytes(t.host[s10 * t.host_len + 1:s10 * t.host_len + 5]) == b"dev1"
        s11 = t.slot_of(11)
        assert t.state[s11] == FREE and key_of(t, s11) == b"\0"
        assert t.state[t.slot_of(13)] == DECLINED
        s14 = t.slot_of(14)
        assert t.state[s14] == RELEASED and key_of(t, s14) == bytes((10,)) + cid10
        before = snap(e)
        st.close()
        data = read(p)
        assert data[4] == S.VERSION and len(data) > S.HEADER_SIZE
        e2, st2 = opened(p)
        assert st2.corrupt == 0 and "converted" not in st2.message and snap(e2) == before, st2.message
        st2.close()
    finally:
        d.clean()


def test_compaction_keeps_state_and_bounds_size():
    d = TmpDir()
    try:
        e, st, snaps = history_run(d.file())
        st.compact(20)
        assert st.count == sum(1 for x in snaps[-1] if len(x) > 1)
        st.close()
        e2, st2 = opened(d.file(), now=30)
        assert snap(e2) == snaps[-1] and st2.corrupt == 0
        st2.close()
    finally:
        d.clean()


def test_interrupted_compaction():
    d = TmpDir()
    try:
        p = d.file()
        e, st, snaps = history_run(p)
        st.close()
        good = read(p)
        # Crash while writing the temp file: the journal is whole, the temp file is dropped.
        write(p + ".tmp", good[:100])
        e2, st2 = opened(p)
        assert snap(e2) == snaps[-1] and not exists(p + ".tmp") and not exists(p + ".bad")
        st2.compact(5)
        st2.close()
        # Crash between removing the journal and the rename (FAT): the finished temp file is used.
        os.rename(p, p + ".tmp")
        e3, st3 = opened(p)
        assert snap(e3) == snaps[-1] and not exists(p + ".tmp")
        st3.close()
    finally:
        d.clean()


def test_churn_10000_bounded():
    d = TmpDir()
    try:
        p = d.file()
        # Long leases and quarantines so that no timer fires: RAM and file must agree exactly.
        cfg = {"lease_time": 10 ** 6, "decline_hold": 10 ** 6}
        e, st = opened(p, durable=False, cfg=cfg)
        limit = st.limit
        assert limit == 22     # 2 x capacity (10 pool addresses + 1 reservation outside it)
        bound = {}
        ops = 0
        biggest = 0
        i = 0
        while ops < 10000:
            i += 1
            if len(e.log) > 1000:
                del e.log[:]       # the harness logs every event; keep memory flat
            c = 1 + (i * 7) % 25
            now = 1 + i
            if c in bound:
                if i % 2501 == 0:
                    h.decline(e, c, bound[c], now)
                else:
                    h.release(e, c, bound[c], now)
                del bound[c]
            else:
                offer = h.discover(e, c, now, name(c))
                if offer is None:
                    continue
                ack = h.request_selecting(e, c, offer["yiaddr"], now)
                if ack["type"] == k.ACK:
                    bound[c] = ack["yiaddr"]
            ops += 1
            n = os.stat(p)[6]
            if n > biggest:
                biggest = n
        assert i < 40000
        assert biggest <= S.HEADER_SIZE + limit * R, biggest
        assert st.compactions > 100, st.compactions
        want = snap(e)
        st.close()
        e2, st2 = opened(p, now=20000, cfg=cfg)
        assert snap(e2) == want and st2.corrupt == 0
        st2.close()
        print("store: %d churn ops, %d compactions, file at most %d bytes (bound %d)"
              % (ops, st.compactions, biggest, S.HEADER_SIZE + limit * R))
    finally:
        d.clean()


def test_renewals_do_not_write_10_clients_one_day():
    # The wear figure in docs/leases.md: 10 clients, 1-hour leases, renewing at T1 for a day.
    d = TmpDir()
    try:
        e, st = opened(d.file(), cfg={"lease_time": 3600, "reservations": [], "pool": ("192.168.4.10", "192.168.4.29")})
        addrs = {}
        for c in range(1, 11):
            addrs[c] = h.dora(e, c, 0, name(c))["yiaddr"]
        assert st.writes == 10
        renewals = 0
        for now in range(1800, 86400 + 1, 1800):
            for c in range(1, 11):
                ack = h.renew(e, c, addrs[c], now)
                assert ack["type"] == k.ACK
                renewals += 1
        assert renewals == 480 and st.writes == 10, st.writes
        st.close()
    finally:
        d.clean()


def test_config_changes_are_skipped_and_counted():
    d = TmpDir()
    try:
        p = d.file()
        e, st = opened(p)
        got = {}
        for c in (1, 2, 3, 4, 5, 6):
            got[c] = h.dora(e, c, 0)["yiaddr"]
        st.close()
        # A smaller pool and a new reservation of client 1's address for client 40.
        a1 = k.ipstr(got[1])
        outside = [c for c in got if k.ipstr(got[c]) in ("192.168.4.18", "192.168.4.19")]
        cfg = {"pool": ("192.168.4.10", "192.168.4.17"),
               "reservations": CFG["reservations"] + [("02:00:00:00:00:28", a1)]}
        e2, st2 = opened(p, cfg=cfg)
        # Client 1's record is skipped once, whether its address left the pool or is reserved now.
        assert st2.skipped == len(outside) + (0 if 1 in outside else 1), (st2.message, outside)
        assert "skipped" in st2.message and st2.corrupt == 0
        assert bound_addr(e2, 1) is None
        for c in got:
            if c != 1 and c not in outside:
                assert bound_addr(e2, c) == got[c]
        st2.close()
        # The rewritten file holds only what is valid now.
        e3, st3 = opened(p, cfg=cfg)
        assert st3.skipped == 0 and st3.loaded == sum(1 for x in snap(e2) if len(x) > 1), st3.message
        assert snap(e3) == snap(e2)
        st3.close()
    finally:
        d.clean()


def test_long_client_ids_round_trip():
    """Issue 11: client ids are kept whole in the table's arena and in the record (up to 64
    bytes): 19-, 39- and 64-byte ids, an id that equals 01 + a MAC sent from another chaddr,
    and a MAC client all come back after a reload, each at its own address; with fewer arena
    cells than the file needs, the records that do not fit are skipped, never merged."""
    d = TmpDir()
    try:
        ids = {1: b"\xff\x00\x00\x00\x01\x00\x01\x00\x01" + bytes(4) + k.mac(1),   # 19 bytes, 1 cell
               2: b"\x00" + b"two" * 12 + b"!!",                                   # 39 bytes, 2 cells
               3: b"\x00" + b"3" * 63}                                              # 64 bytes, 4 cells
        cfg = {"id_cells": 8}
        e, st = opened(d.file(), cfg=cfg)
        got = {}
        for c in (1, 2, 3):
            got[c] = h.dora(e, c, 10, ((61, ids[c]),) + name(c))["yiaddr"]
        v4 = b"\x01" + k.mac(4)
        o = h.send(e, k.msg(k.DISCOVER, 9, ((61, v4),)), 10)                  # 01 + MAC 4 from chaddr 9
        got[4] = h.send(e, k.msg(k.REQUEST, 9, ((61, v4), (50, o["yiaddr"]), (54, h.SERVER))), 10)["yiaddr"]
        got[5] = h.dora(e, 5, 10)["yiaddr"]
        h.send(e, k.msg(k.RELEASE, 2, ((54, h.SERVER), (61, ids[2])), ciaddr=got[2]), 11)
        assert e.table.nfree == 0, e.table.nfree      # 1 + 2 + 4 + 1 cells: the arena is full
        before = snap(e)
        st.close()
        e2, st2 = opened(d.file(), now=100, cfg=cfg)
        assert st2.skipped == 0 and st2.corrupt == 0, st2.message
        assert snap(e2) == before, (show(snap(e2)), show(before))
        inv.check(e2, 100)
        for c in (1, 3):
            r = h.send(e2, k.msg(k.REQUEST, c, ((61, ids[c]),), ciaddr=got[c]), 101)
            assert r["type"] == k.ACK and r["yiaddr"] == got[c]
        r = h.send(e2, k.msg(k.REQUEST, 9, ((61, v4),), ciaddr=got[4]), 101)
        assert r["type"] == k.ACK
        assert h.renew(e2, 5, got[5], 101)["type"] == k.ACK
        assert h.dora(e2, 2, 102, ((61, ids[2]),))["yiaddr"] == got[2]      # released: remembered
        st2.close()
        # Three cells for 8 cells' worth of ids: what fits is loaded, the rest skipped.
        e3, st3 = opened(d.file(), now=200, cfg={"id_cells": 3})
        assert st3.skipped > 0 and st3.corrupt == 0, st3.message
        inv.check(e3, 200)
        assert bound_addr(e3, 5) == got[5]
        st3.close()
    finally:
        d.clean()


def test_no_allocation_per_record():
    # MicroPython only (CPython has no heap_lock): a commit runs with the heap locked, and the
    # memory load() allocates does not grow with the number of records.
    try:
        import micropython
        import gc
        micropython.heap_lock
        gc.mem_alloc
    except (ImportError, AttributeError):
        return
    d = TmpDir()
    try:
        cfg = {"pool": ("192.168.4.10", "192.168.4.250"), "reservations": []}
        used = []
        for n in (5, 150):
            p = d.file("n%d" % n)
            e, st = opened(p, cfg=cfg)
            e.on_event = None
            msgs = []
            for c in range(1, n + 1):
                msgs.append((k.msg(k.DISCOVER, c), c))
            for m, c in msgs:
                e.handle(m, 1, e.tx)
                req = k.msg(k.REQUEST, c, ((50, bytes(e.tx[16:20])), (54, h.SERVER)))
                micropython.heap_lock()
                try:
                    e.handle(req, 1, e.tx)      # the ACK path, commit (write + flush) included
                finally:
                    micropython.heap_unlock()
            assert st.count == n
            st.close()
            e2 = new_engine(**cfg)
            st2 = LeaseStore(p, e2)
            gc.collect()
            gc.disable()
            a = gc.mem_alloc()
            st2.load(5)
            used.append(gc.mem_alloc() - a)
            gc.enable()
            assert st2.loaded == n
            st2.close()
        print("store: load() allocates %r bytes for 5 and 150 records" % (used,))
        assert used[1] - used[0] < 64, used   # 145 more records, (almost) no more memory
    finally:
        d.clean()


def test_crc32_halves_is_crc32():
    # The write path's allocation-free CRC must be exactly binascii.crc32 (the file format and
    # load()'s residue check rely on it), for CRCs above 2**31 and below 2**30 alike.
    from binascii import crc32
    buf = bytearray(80)
    seen_high = seen_low = 0
    for n in (0, 1, 2, 3, 7, 16, 52, 64, 76):
        for fill in range(12):
            for i in range(n):
                buf[i] = (i * 37 + fill * 101 + n) & 255
            want = crc32(bytes(buf[:n])) & 0xFFFFFFFF
            S.crc32_halves(buf, n, n)
            got = buf[n] | (buf[n + 1] << 8) | (buf[n + 2] << 16) | (buf[n + 3] << 24)
            assert got == want, (n, fill, got, want)
            if want >= 0x80000000:
                seen_high += 1
            elif want < 0x40000000:
                seen_low += 1
            # and the record form: CRC-32 over data + its little-endian CRC is the residue
            assert crc32(bytes(buf[:n + 4])) & 0xFFFFFFFF == S.RESIDUE
    assert seen_high and seen_low, (seen_high, seen_low)


def _unpatch(d):
    # Ends a test that gave store.py a fake `open` or `os` (a failing or power-cut file system):
    # the module's own names go back to the builtins, and the test's folder is removed.
    if "open" in S.__dict__:
        del S.open
    S.os = os
    d.clean()


def test_no_memory_for_a_compaction_loses_no_lease():
    """Compaction opens its new file (a file object and its buffers: heap on a board). With no
    memory for it the record goes to the journal, compaction is tried again at the next commit
    and persistence is not given up; with no memory to open the journal again either, the
    failure is counted and the next commit opens it; a record missed so is written by a
    compaction at the next commit. A reload then finds every lease."""
    d = TmpDir("nomem")
    real = open
    fails = {"tmp": 0, "ab": 0}

    def fake_open(path, mode="r"):
        if fails["tmp"] and path.endswith(".tmp"):
            fails["tmp"] -= 1
            raise MemoryError("memory allocation failed, allocating 512 bytes")
        if fails["ab"] and mode == "ab":
            fails["ab"] -= 1
            raise MemoryError("memory allocation failed, allocating 512 bytes")
        return real(path, mode)
    try:
        p = d.file()
        e, st = opened(p, max_records=4, cfg={"pool": ("192.168.4.10", "192.168.4.60")})
        S.open = fake_open       # the module's own `open`, looked up before the builtin
        done = st.compactions
        fails["tmp"] = 1
        c = 0
        while st.compact_nomem == 0 and c < 10:     # until the journal is full: that commit
            c += 1                                  # compacts, and finds no memory
            h.dora(e, c, c)
        assert st.compact_nomem == 1 and st.compactions == done and st.persistent and st.write_errors == 0
        assert not exists(p + ".tmp")
        c += 1
        h.dora(e, c, c)          # the journal is past its bound: compaction again, done
        assert st.compactions == done + 1 and st.persistent
        fails["ab"] = 2          # the next compaction's reopen of the journal, and the retry of it
        while st.write_errors == 0 and c < 30:
            c += 1
            h.dora(e, c, c)
        assert st.compactions == done + 2 and st.write_errors == 1 and st.f is None and st.persistent
        st.limit = 1000          # from here a commit appends, unless a compaction is due
        fails["ab"] = 1
        c += 1
        h.dora(e, c, c)          # still no memory to open the journal: this record is missed, counted
        assert st.write_errors == 2 and st.f is None and st.compactions == done + 2
        c += 1
        h.dora(e, c, c)          # opened, and compacted: every slot written, the missed one too
        assert st.compactions == done + 3 and st.f is not None and st.write_errors == 2
        st.close()
        del S.open
        e2, st2 = opened(p, now=c + 1, cfg={"pool": ("192.168.4.10", "192.168.4.60")})
        assert st2.corrupt == 0 and snap(e2) == snap(e), (show(snap(e2)), show(snap(e)))
        assert sum(1 for x in snap(e2) if x[0] == BOUND) == c
        st2.close()
    finally:
        _unpatch(d)


# --- power cuts and a full flash while a damaged file is recovered ---------------------------
class PowerCut(BaseException):
    """The power fails: not an Exception, so no handler in the store can swallow it."""


class CutFile:
    # A file whose writes reach the disk at once (flushed), until the budget runs out.
    def __init__(self, fs, f):
        self.fs = fs
        self.f = f

    def write(self, buf):
        n = self.fs.spend(len(buf))
        self.f.write(bytes(buf[:n]))
        self.f.flush()
        if n < len(buf):
            self.fs.fail()
        return n

    def flush(self):
        self.f.flush()

    def close(self):
        self.f.close()


class CutFS:
    """The store's `open` and `os`, with `budget` units of work before the disk fails: a byte
    written is a unit, so is a rename or a remove under power cuts. fail() raises `error` (an
    OSError such as ENOSPC), or cuts the power (error None): nothing reaches the disk after."""

    def __init__(self, budget, error=None):
        self.budget = budget
        self.error = error
        self.used = 0
        self.dead = False
        self.failed = False

    def spend(self, n):
        if self.dead:
            raise PowerCut()
        if self.budget is not None and self.used + n > self.budget:
            n = self.budget - self.used
        self.used += n
        return n

    def fail(self):
        self.failed = True
        if self.error is None:
            self.dead = True
            raise PowerCut()
        raise self.error

    def step(self):
        # A rename or a remove: one unit under power cuts; a full flash does not refuse them.
        if self.error is None and self.spend(1) < 1:
            self.fail()

    def open(self, path, mode="r"):
        if self.dead:
            raise PowerCut()
        f = open(path, mode)
        return CutFile(self, f) if "r" not in mode else f

    def stat(self, p):
        return os.stat(p)

    def remove(self, p):
        self.step()
        os.remove(p)

    def rename(self, a, b):
        self.step()
        os.rename(a, b)


def _cut_load(p, fs, cfg):
    # One start-up with the store's file access through fs; False when the power failed.
    S.open = fs.open
    S.os = fs
    try:
        e, st = opened(p, now=50, durable=False, cfg=cfg)
        st.close()
        return True
    except PowerCut:
        return False
    finally:
        del S.open
        S.os = os


def test_damaged_file_kept_until_its_rewrite_is_whole():
    """A damaged file is recovered by a rewrite at start-up. A power cut at any byte of that
    rewrite (or at a rename), or a full flash, must not lose a lease the damaged file still
    held: the next start-up finds every one of them (docs/leases.md, crash safety)."""
    import errno
    cfg = {"lease_time": 10 ** 6, "decline_hold": 10 ** 6}
    d = TmpDir("cut")
    try:
        p = d.file()
        e, st = opened(p, cfg=cfg)
        got = {}
        for c in range(1, 7):
            got[c] = h.dora(e, c, 10, name(c))["yiaddr"]
        st.close()
        damaged = read(p) + b"L\x02partial"       # a record cut by a power failure
        cuts = 0
        for error in (None, OSError(getattr(errno, "ENOSPC", 28), "No space left on device")):
            budget = 0
            while True:
                for f in (p, p + ".tmp", p + ".bad"):
                    if exists(f):
                        os.remove(f)
                write(p, damaged)
                fs = CutFS(budget, error)
                done = _cut_load(p, fs, cfg)
                e2, st2 = opened(p, now=100, cfg=cfg)       # the next start-up, disk whole
                lost = [c for c in got if bound_addr(e2, c) != got[c]]
                assert not lost, "%s at unit %d of the recovery: clients %r lost (%s)" % (
                    "power cut" if error is None else "ENOSPC", budget, lost, st2.message)
                st2.close()
                if error is not None:
                    assert not exists(p + ".tmp"), "ENOSPC at unit %d: the unfinished temp file stays" % budget
                cuts += 1
                if fs.used < budget:      # the recovery ran to its end within the budget
                    assert done
                    break
                budget += 1
        print("store: %d power cuts and full-flash failures in a recovery rewrite, no lease lost" % cuts)
    finally:
        _unpatch(d)


def test_a_directory_or_unreadable_file_is_left_alone():
    """A directory, or a file this user may not read, where the lease file should be is not a
    damaged lease file: it is neither moved aside nor replaced (the leases in an unreadable file
    would be forgotten, a directory is the user's). The server starts without persistence and
    says why; the host command then refuses to start (store.persistent is False)."""
    import errno
    d = TmpDir("notafile")
    real = open

    def no_read(path, mode="r"):
        if path == p and "r" in mode:
            raise OSError(errno.EACCES, "Permission denied")
        return real(path, mode)
    try:
        p = d.file()
        os.mkdir(p)
        e, st = opened(p)
        assert not st.persistent and "directory" in st.problem, st.message
        assert "directory" in st.message, st.message
        assert os.stat(p)[0] & 0x4000 and not exists(p + ".bad") and not exists(p + ".tmp"), os.listdir(d.path)
        assert h.dora(e, 1, 0)["type"] == k.ACK       # serving all the same
        st.close()
        os.rmdir(p)
        e, st = opened(p)
        h.dora(e, 1, 0, name(1))
        st.close()
        data = read(p)
        S.open = no_read
        try:
            e, st = opened(p)
        finally:
            del S.open
        assert not st.persistent and "permission denied" in st.problem, st.message
        assert read(p) == data and not exists(p + ".bad") and not exists(p + ".tmp"), os.listdir(d.path)
        st.close()
    finally:
        _unpatch(d)


def test_power_cut_or_full_flash_at_any_byte_of_a_commit():
    """A commit appends a record, or (journal full) compacts: a power cut at any byte of either,
    or at the rename, or ENOSPC there, loses no lease ACKed before it; after ENOSPC the server
    serves on and the lost write is said (persistent False), no temp file is left."""
    cfg = {"lease_time": 10 ** 6, "decline_hold": 10 ** 6, "pool": ("192.168.4.10", "192.168.4.17")}
    d = TmpDir("cutc")
    try:
        p = d.file()
        e, st = opened(p, cfg=cfg, max_records=8)
        got = {}
        for c in range(1, 6):
            got[c] = h.dora(e, c, 10, name(c))["yiaddr"]
        st.close()
        base = read(p)
        cuts = 0
        for c_new in (6, 7):       # 6 appends (the journal is full then), 7 compacts
            for error in (None, OSError(28, "No space left on device")):
                budget = 0
                while True:
                    write(p, base)
                    for f in (p + ".tmp", p + ".bad"):
                        if exists(f):
                            os.remove(f)
                    e1, st1 = opened(p, now=20, cfg=cfg, max_records=8, durable=False)
                    for c in range(6, c_new):
                        h.dora(e1, c, 20, name(c))
                    fs = CutFS(budget, error)
                    S.open = fs.open
                    S.os = fs
                    st1.f = CutFile(fs, st1.f)       # the journal, opened at start-up
                    try:
                        h.dora(e1, c_new, 20, name(c_new))
                        if error is not None:
                            assert st1.persistent != fs.failed, (budget, st1.problem)
                    except PowerCut:
                        pass
                    finally:
                        del S.open
                        S.os = os
                    st1.close()
                    if error is not None:
                        assert not exists(p + ".tmp"), (c_new, budget, st1.count, st1.limit, fs.failed)
                    e2, st2 = opened(p, now=100, cfg=cfg)
                    lost = [c for c in range(1, c_new) if bound_addr(e2, c) is None]
                    assert not lost, "%s at unit %d of client %d's commit: %r lost (%s)" % (
                        "power cut" if error is None else "ENOSPC", budget, c_new, lost, st2.message)
                    st2.close()
                    cuts += 1
                    if fs.used < budget:
                        assert st1.compactions == c_new - 6, (c_new, st1.compactions)
                        break
                    budget += 1
        print("store: %d power cuts and full-flash failures in commits, no lease lost" % cuts)
    finally:
        _unpatch(d)


def test_loading_an_endless_lease_builds_no_big_int():
    """A lease of NEVER (lease_time 2**30 - 1, the host command's --lease maximum) loaded at a
    time after 0: start time + seconds left reached 2**30, a heap int on a 32-bit board (and an
    OverflowError where a port has no long ints). It is held at NEVER, computed with no sum over
    2**30 (checked under heap_lock on MicroPython; the 32-bit build is the one where it can fail)."""
    d = TmpDir("never")
    try:
        cfg = {"lease_time": NEVER, "decline_hold": NEVER - 5}
        e, st = opened(d.file(), cfg=cfg)
        a = h.dora(e, 1, 0, name(1))["yiaddr"]
        st.close()
        e2, st2 = opened(d.file(), now=1000, cfg=cfg)
        s = e2.table.slot_of(e2.cfg.offset(a))
        assert e2.table.state[s] == BOUND and e2.table.expiry[s] == NEVER, e2.table.expiry[s]
        rec = bytearray(S.record_size(16))
        rec[S.R_LEFT] = 0x3F       # 2**30 - 2 seconds left: not NEVER, still past it from 1000
        rec[S.R_LEFT + 1] = rec[S.R_LEFT + 2] = 0xFF
        rec[S.R_LEFT + 3] = 0xFE
        try:
            import micropython
            lock, unlock = micropython.heap_lock, micropython.heap_unlock
        except (ImportError, AttributeError):
            lock = unlock = None
        for state in (BOUND, DECLINED):
            if lock:
                lock()
            try:
                st2._hold(s, rec, state)
            finally:
                if unlock:
                    unlock()
            assert e2.table.expiry[s] == NEVER, (state, e2.table.expiry[s])
        st2.close()
    finally:
        d.clean()


def test_no_memory_while_loading_is_not_damage():
    """A MemoryError while the file is read (a board's heap, not the file) is no damage: the
    file is neither moved aside nor rewritten from the records read so far (that lost every
    lease after the failure at the next start); the store is not persistent and says why."""
    d = TmpDir("nomemload")
    try:
        p = d.file()
        e, st = opened(p)
        got = {}
        for c in range(1, 7):
            got[c] = h.dora(e, c, 0, name(c))["yiaddr"]
        st.close()
        data = read(p)
        e2 = new_engine()
        st2 = LeaseStore(p, e2)
        real = st2._apply
        seen = [0]

        def apply(rec, hl):
            seen[0] += 1
            if seen[0] == 5:
                raise MemoryError("memory allocation failed, allocating 64 bytes")
            real(rec, hl)
        st2._apply = apply
        msg = st2.load(0)
        assert not st2.persistent and "memory" in st2.problem, msg
        assert read(p) == data and not exists(p + ".bad") and not exists(p + ".tmp"), msg
        st2.close()
        e3, st3 = opened(p, now=10)
        lost = [c for c in got if bound_addr(e3, c) != got[c]]
        assert not lost and st3.corrupt == 0, (lost, st3.message)
        st3.close()
    finally:
        d.clean()
