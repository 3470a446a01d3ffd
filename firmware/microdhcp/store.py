# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.store: the lease file. An append-only journal of fixed-size, checksummed slot records,
# compacted into a fresh file (temp file + os.rename) when it outgrows 2 x capacity records.
# Format, crash-safety proof and wear figures: docs/leases.md. Runs on CPython and MicroPython.
#
#   store = LeaseStore(path, engine)
#   print(store.load(now))       # fills engine.table, then sets engine.on_commit = store.commit
#   (or store = open_store(path, engine, now, log=print), which does both)
#
# Allocation: load() reads every record into one reused buffer; commit() packs into that buffer
# and allocates nothing: its CRC-32 is computed in two 16-bit halves (crc32_halves), because
# binascii.crc32 returns the whole 32-bit value, a heap int on a 32-bit board 3 times in 4.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

import gc
import os
import struct
from binascii import crc32
from microdhcp.errors import describe
from microdhcp.leases import key_hash

# The table's public numbers (microdhcp.codes) as constants here: an imported name is a slot in
# this module's dict and a look-up per use (host_tests/core/test_fastpaths.py checks the copies).
_FREE = const(0)                 # codes.FREE .. codes.RESERVED: slot states
_OFFERED = const(1)
_BOUND = const(2)
_RELEASED = const(3)
_DECLINED = const(5)
_RESERVED = const(6)
_F_RESERVED = const(1)           # codes.F_RESERVED
_KEY_SIZE = const(65)            # codes.KEY_SIZE, .MAX_ID, .HW_SIZE, .HW_ROOM, .NEVER
_MAX_ID = const(64)
_HW_SIZE = const(7)
_HW_ROOM = const(6)
_NEVER = const(0x3FFFFFFF)

# File header (16 bytes): magic, version, host field size, 6 zero bytes, CRC-32 (little-endian).
MAGIC = b"mDHL"
VERSION = const(2)         # 2: whole client ids (up to codes.MAX_ID bytes), 8-byte hw field
HEADER_SIZE = const(16)
_HDR_VERSION = const(4)
_HDR_HOSTLEN = const(5)

# Record (87 + host field bytes; 103 with the default hostname_len=15):
TAG = const(0x4C)          # "L"
R_TAG = const(0)           # 1  TAG
R_STATE = const(1)         # 1  slot state (codes.FREE ..), never OFFERED
R_ADDR = const(2)          # 4  the address, whole (a changed subnet cannot misplace a lease)
R_LEFT = const(6)          # 4  seconds left when written, big-endian, < 2**30 (NEVER: no timer)
R_KEY = const(10)          # 65 client identity: length byte (0: none) + up to 64 bytes, zero-padded
R_HW = const(75)           # 8  htype, hlen, the first 6 bytes of chaddr (what the table keeps)
R_HOST = const(83)         # H  length byte + hostname (H = hostname_len + 1)
# then the CRC-32 of everything before it, little-endian, so that crc32(whole record) is RESIDUE.
RESIDUE = const(0x2144DF1C)  # CRC-32 of any message followed by its own little-endian CRC (< 2**30)

# Version 1 (the first release's files), read and converted on load: the same header; records of
# 52 + host field bytes with the same first 10 bytes, then the identity in 20 bytes (length byte +
# up to 19 bytes; a longer one kept only as its first 16 bytes + a 24-bit hash, so it cannot be
# restored whole), htype, hlen and chaddr[16] in 18, the host field at 48, the CRC-32 last.
_V1 = const(1)
_V1_KEY = const(10)
_V1_KEY_ROOM = const(19)
_V1_HW = const(30)
_V1_HOST = const(48)


# CRC-32 of each nibble value (reflected polynomial 0xEDB88320, the CRC of binascii.crc32), four
# little-endian bytes each. Bytes, not a tuple of ints: a frozen tuple keeps ints outside
# -8192..8191 as long-int objects (tools/mpy-tool.py, mp_small_int_fits), and arithmetic with
# those allocates; a byte read is always a small int.
_NIB = (
    b"\x00\x00\x00\x00\x64\x10\xb7\x1d\xc8\x20\x6e\x3b\xac\x30\xd9\x26"
    b"\x90\x41\xdc\x76\xf4\x51\x6b\x6b\x58\x61\xb2\x4d\x3c\x71\x05\x50"
    b"\x20\x83\xb8\xed\x44\x93\x0f\xf0\xe8\xa3\xd6\xd6\x8c\xb3\x61\xcb"
    b"\xb0\xc2\x64\x9b\xd4\xd2\xd3\x86\x78\xe2\x0a\xa0\x1c\xf2\xbd\xbd"
)


def crc32_halves(buf, n, out):
    # Writes binascii.crc32(buf[:n]) little-endian into buf[out:out + 4] without allocating:
    # the CRC is kept in two 16-bit halves, so no value reaches 2**30 (a small int on any port).
    lo = 0xFFFF
    hi = 0xFFFF
    t = _NIB
    for i in range(n):
        lo ^= buf[i]
        j = (lo & 15) << 2
        lo = ((lo >> 4) | ((hi & 15) << 12)) ^ t[j] ^ (t[j + 1] << 8)
        hi = (hi >> 4) ^ t[j + 2] ^ (t[j + 3] << 8)
        j = (lo & 15) << 2
        lo = ((lo >> 4) | ((hi & 15) << 12)) ^ t[j] ^ (t[j + 1] << 8)
        hi = (hi >> 4) ^ t[j + 2] ^ (t[j + 3] << 8)
    lo ^= 0xFFFF
    hi ^= 0xFFFF
    buf[out] = lo & 255
    buf[out + 1] = lo >> 8
    buf[out + 2] = hi & 255
    buf[out + 3] = hi >> 8


def record_size(host_len):
    return R_HOST + host_len + 4


def header_bytes(host_len):
    h = bytearray(HEADER_SIZE)
    h[0:4] = MAGIC
    h[_HDR_VERSION] = VERSION
    h[_HDR_HOSTLEN] = host_len
    struct.pack_into("<I", h, HEADER_SIZE - 4, crc32(memoryview(h)[:HEADER_SIZE - 4]))
    return h


def header_host_len(h, n):
    # Host field size from a header of n bytes, or -1 when it is not a valid header.
    if n < HEADER_SIZE or h[0:4] != MAGIC or h[_HDR_VERSION] != VERSION or crc32(h) != RESIDUE:
        return -1
    return h[_HDR_HOSTLEN]


def _from_v1(old, new, hl):
    # A version 1 record (old) as a version 2 record (new, record_size(hl) bytes). An identity
    # that version 1 kept cut (longer than 19 bytes) is lost: the address is loaded as free (a
    # declined one stays declined), and that client gets an address anew.
    for i in range(len(new)):
        new[i] = 0
    new[0:R_KEY] = old[0:R_KEY]
    n = old[_V1_KEY]
    if n <= _V1_KEY_ROOM:
        new[R_KEY:R_KEY + 1 + n] = old[_V1_KEY:_V1_KEY + 1 + n]
    elif new[R_STATE] != _DECLINED:
        new[R_STATE] = _FREE
    new[R_HW:R_HW + 8] = old[_V1_HW:_V1_HW + 8]   # htype, hlen, the first 6 bytes of chaddr
    new[R_HOST:R_HOST + hl] = old[_V1_HOST:_V1_HOST + hl]
    crc32_halves(new, len(new) - 4, len(new) - 4)


def left_of(rec):
    # Seconds left in a record; values from 2**30 up mean "no timer" (never built as ints).
    if rec[R_LEFT] >= 0x40:
        return _NEVER
    return (rec[R_LEFT] << 24) | (rec[R_LEFT + 1] << 16) | (rec[R_LEFT + 2] << 8) | rec[R_LEFT + 3]


def scan(path, host_len, cb, version=None):
    """Calls cb(rec, host_len) for each record whose CRC holds, in file order, rec being one
    reused bytearray in this version's layout (a version 1 file's records are converted).
    host_len is used when the header is damaged (records still start at 16). Never raises on
    bad content (only on I/O errors). Returns (records ok, bad records, stray tail bytes, header
    ok, host field size used, bytes read); version[0] is set to the file's version when given."""
    f = open(path, "rb")
    try:
        hdr = bytearray(HEADER_SIZE)
        n = f.readinto(hdr)
        hl = header_host_len(hdr, n)
        v1 = hl < 0 and n == HEADER_SIZE and hdr[0:4] == MAGIC and hdr[_HDR_VERSION] == _V1 \
            and crc32(hdr) == RESIDUE
        if v1:
            hl = hdr[_HDR_HOSTLEN]
        hdr_ok = hl >= 0
        if hl < 0:
            hl = host_len
        if version is not None:
            version[0] = _V1 if v1 else VERSION
        size = _V1_HOST + hl + 4 if v1 else record_size(hl)
        rec = bytearray(size)
        out = bytearray(record_size(hl)) if v1 else rec
        good = bad = tail = 0
        total = n
        while n == HEADER_SIZE:
            m = f.readinto(rec)
            if not m:
                break
            total += m
            if m < size:
                tail = m
                break
            if rec[R_TAG] == TAG and crc32(rec) == RESIDUE:
                good += 1
                if v1:
                    _from_v1(rec, out, hl)
                cb(out, hl)
            else:
                bad += 1
        return good, bad, tail, hdr_ok, hl, total
    finally:
        f.close()


def _size(path):
    # -> the file's size, -1 when there is none, -2 for a directory (no lease file; its size
    # reads 0 on littlefs and FAT). os.stat is on every runtime: st_mode at 0, st_size at 6.
    try:
        s = os.stat(path)
    except OSError:
        return -1
    return -2 if s[0] & 0x4000 else s[6]   # S_IFDIR (extmod/vfs_lfsx.c, vfs_fat.c st_mode)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _sync_dir(path):
    # Makes a rename durable: fsync of the directory on a POSIX host, os.sync on a board
    # (littlefs commits a rename atomically by itself; os.sync is absent on the unix port).
    if hasattr(os, "O_RDONLY") and hasattr(os, "fsync"):
        d = path.rsplit("/", 1)[0] if "/" in path else "."
        fd = os.open(d or "/", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    elif hasattr(os, "sync"):
        os.sync()


def open_store(path, engine, now, log=None):
    """Opens the lease file and puts its leases back into the engine's table.

    What the host command and the boards call. The store is attached to the engine
    (``engine.on_commit = store.commit``), so every new binding, RELEASE and DECLINE is on the
    file before its reply leaves (docs/leases.md).

    :param path: The lease file (made when missing).
    :param engine: The :class:`microdhcp.engine.Engine` whose table it keeps.
    :param now: The current time in seconds of the server clock (leases that ended meanwhile end).
    :param log: Optional ``log(line)``; gets the one-line load report.
    :return: The :class:`LeaseStore`. Its ``persistent`` is False (and ``problem`` says why) when
             the file cannot be written: the board serves on, the host command refuses to start.
    """
    st = LeaseStore(path, engine)
    st.log = log
    msg = st.load(now)
    if log is not None:
        log("microdhcp: " + msg)
    return st


class LeaseStore:
    """Keeps engine.table on a file. max_records bounds the journal (default 2 x capacity, at
    least 16); durable=False skips fsync/os.sync (tests only)."""

    def __init__(self, path, engine, max_records=0, durable=True):
        self.path = path
        self.tmp = path + ".tmp"
        self.engine = engine
        t = engine.table
        self.host_len = t.host_len
        self.size = record_size(t.host_len)
        self.rec = bytearray(self.size)
        self.kb = bytearray(_KEY_SIZE)
        cap = t.capacity
        self.limit = max_records or (2 * cap if cap > 8 else 16)
        self.durable = durable
        self.f = None
        self.count = 0          # records in the journal now
        self.now = 0            # latest time seen (see commit)
        self.writes = 0         # records written since construction (commits + compactions)
        self.compactions = 0
        # load() results
        self.loaded = self.skipped = self.corrupt = 0
        self.bad_path = None
        self.message = ""
        self.persistent = False  # True once the file is open for writing (load() decides)
        self.problem = ""        # why it is not, in words (errors.describe)
        self.write_errors = 0    # commits that could not be written (a board keeps serving)
        self.compact_nomem = 0   # compactions put off for want of memory (the journal kept growing)
        self._reopen = False     # the journal is to be opened again at the next commit
        self._compact_due = False  # a record was missed: the next commit writes every slot
        self.log = None          # log(line) for a write failure while serving (open_store sets it)

    # --- start-up (allocates; once) -------------------------------------------------------
    def load(self, now, attach=True):
        """Fills the engine's table from the file and opens it for appending. Never raises for
        a missing, truncated or corrupt file: the message returned says what happened, a damaged
        file is kept as PATH.bad and a clean one is written from what was recovered."""
        self.now = now
        self.loaded = self.skipped = self.corrupt = 0
        self.bad_path = None
        notes = []
        path = self.path
        # An interrupted compaction: a finished temp file replaces a missing journal (FAT-style
        # remove-then-rename); next to an existing journal it is unfinished and dropped.
        if _size(self.tmp) != -1:
            if _size(path) != -1:
                _remove(self.tmp)
            else:
                try:
                    os.rename(self.tmp, path)
                except OSError:
                    pass
        rewrite = True
        dmg = ""
        err = None   # type: Exception | None
        size = _size(path)
        if size == -2:
            err = OSError(21)       # EISDIR: a directory is no lease file (left alone, below)
        if size == 0:
            # An empty file (made by `touch`, or cut before its header was written) holds no
            # lease and no damage: start a new store in it.
            notes.append("empty lease file, starting a new one")
        elif size > 0:
            self._t = now
            ver = bytearray(1)
            try:
                good, bad, tail, hdr_ok, hl, total = scan(path, self.host_len, self._apply, ver)
            except (OSError, MemoryError) as e:
                # A file we may not read, or no heap, is no damaged file: neither moved aside nor
                # rewritten from what was read (its other leases would be forgotten); read again
                # at the next start. A directory likewise. Not persistent meanwhile.
                err = e
                size = -2
            except Exception as e:   # a bug (or a header from elsewhere): start with what we have
                good, bad, tail, hdr_ok, hl = self.loaded, 1, 0, False, 0
                notes.append("read error: %s" % describe(e, path=path))
            if err is None:
                self.corrupt += bad + (1 if tail else 0) + (0 if hdr_ok else 1)
                if self.corrupt:
                    # compact() moves it aside only once the recovered file is whole: a power
                    # cut or a full flash in between must not lose what it still holds.
                    self._kept = "left in place"
                    dmg = "damaged lease file (%s%d bad records, %d stray tail bytes) " % (
                        "" if hdr_ok else "bad header, ", bad, tail)
                else:
                    self.count = good
                    # Clean and in today's format: keep appending; else rewrite (drops skipped
                    # records).
                    rewrite = self.skipped > 0 or good > self.limit or hl != self.host_len or ver[0] != VERSION
                    if ver[0] != VERSION:
                        notes.append("converted from lease file version %d" % ver[0])
        elif size == -1:
            notes.append("no lease file yet")
        if err is None:
            try:
                if rewrite:
                    self.compact(now, dmg)
                else:
                    self.f = open(path, "ab")
            except Exception as e:
                err = e
            if dmg:
                notes.append(dmg + self._kept)
        if err is not None:
            self.problem = describe(err, path=path)
            notes.append("cannot %s %s: %s (leases will not persist)"
                         % ("read" if size == -2 else "write", path, self.problem))
        self.persistent = self.f is not None
        if attach:
            self.engine.on_commit = self.commit
        msg = "leases: %d records loaded from %s" % (self.loaded, path)
        if self.skipped:
            msg += ", %d skipped (address outside the pool or reserved for another client now)" % self.skipped
        for n in notes:
            msg += "; " + n
        self.message = msg
        return msg

    def _apply(self, rec, host_len):
        # One stored slot snapshot into the table; the latest record for an address wins, and a
        # client (key) lives in one slot only, so a later record for its key clears older ones.
        e = self.engine
        t = e.table
        cfg = e.cfg
        st = rec[R_STATE]
        if st > _RESERVED or st == _OFFERED:
            self.corrupt += 1
            return
        s = t.slot_of(cfg.offset(rec, R_ADDR))   # -1 for an address outside the subnet too
        if s < 0:
            self.skipped += 1
            return
        kb = self.kb
        for i in range(_KEY_SIZE):
            kb[i] = rec[R_KEY + i]
        keyed = kb[0] != 0
        if (st == _BOUND and not keyed) or kb[0] > _MAX_ID or rec[R_HW + 1] > 16:
            self.corrupt += 1
            return
        reserved = t.flags[s] & _F_RESERVED
        if reserved and not t.key_equals(s, kb):
            self.skipped += 1              # the address is reserved for another client now
            return
        h = key_hash(kb)
        if keyed:
            f = t.find(kb, h)
            if f >= 0 and f != s:
                if t.flags[f] & _F_RESERVED:
                    self.skipped += 1      # this client is reserved elsewhere now
                    return
                self._forget(f)
        if reserved:
            if st == _BOUND or st == _DECLINED:
                t.state[s] = st
                self._hold(s, rec, st)
            else:
                t.clear_timer(s)
                t.state[s] = _RESERVED
        else:
            if st == _RESERVED:
                st = _RELEASED       # no longer reserved: a free address that remembers its client
            if not keyed and st != _DECLINED:
                st = _FREE
            if st == _BOUND or st == _DECLINED:
                t.unlink(s)
                t.state[s] = st
                self._hold(s, rec, st)
            else:
                t.unlink(s)
                t.vacate(s, st)     # remembered addresses go last, so their clients find them
        if not self._restore_client(s, rec, kb, h):
            self._forget(s)
            self.skipped += 1              # no arena room for this client id (id_cells)
            return
        q = s * t.host_len
        n = rec[R_HOST]
        if n > t.host_len - 1:
            n = t.host_len - 1
        if n > host_len - 1:
            n = host_len - 1
        t.host[q] = n
        for i in range(n):
            t.host[q + 1 + i] = rec[R_HOST + 1 + i]
        self.loaded += 1

    def _restore_client(self, s, rec, kb, h):
        # The record's identity (kb, hash h; length 0: none) and hardware address into slot s.
        # False when the id needs arena cells that are not there.
        t = self.engine.table
        htype = rec[R_HW]
        hlen = rec[R_HW + 1]
        if t.flags[s] & _F_RESERVED:
            # A reservation keeps its configured key as it is (a MAC key is the hw field too).
            if not t.key_is_hw(s):
                t.set_hw(s, htype, hlen, rec, R_HW + 2)
            return True
        n = kb[0]
        hwform = n != 0 and n == hlen + 1 and hlen <= _HW_ROOM and kb[1] == htype
        i = 0
        while hwform and i < hlen:
            hwform = kb[2 + i] == rec[R_HW + 2 + i]
            i += 1
        if n and t.key_equals(s, kb) and t.key_is_hw(s) == hwform:
            t.set_hw(s, htype, hlen, rec, R_HW + 2)
            return True
        t.clear_key(s)      # before set_hw: a key kept in the hw field goes with it
        t.set_hw(s, htype, hlen, rec, R_HW + 2)
        return n == 0 or t.set_key(s, kb, h, hwform)

    def _pack_client(self, r, s):
        # Slot s's identity (whole) and hardware address into record r.
        t = self.engine.table
        kb = self.kb
        n = t.key_into(s, kb)
        for i in range(n + 1):
            r[R_KEY + i] = kb[i]
        for i in range(n + 1, _KEY_SIZE):
            r[R_KEY + i] = 0
        p = s * _HW_SIZE
        hlen = t.hlen(s)
        r[R_HW] = t.hw[p]
        r[R_HW + 1] = hlen
        for i in range(_HW_ROOM):
            r[R_HW + 2 + i] = t.hw[p + 1 + i] if i < hlen else 0

    def _hold(self, s, rec, st):
        # No RTC: a lease is held for its whole time counted from boot. A renewal is never
        # written, so the record may under-state what the client holds; no grant exceeds
        # lease_time (or decline_hold), hence the max.
        cfg = self.engine.cfg
        left = left_of(rec)
        full = cfg.lease_time if st == _BOUND else cfg.decline_hold
        if left < full:
            left = full
        t = self._t
        # Compared before the sum: start + left may pass 2**30 (a heap int on a 32-bit board).
        self.engine.table.set_timer(s, _NEVER if left >= _NEVER - t else t + left)

    def _forget(self, s):
        # s no longer remembers a client: free for anyone (never a reservation here).
        t = self.engine.table
        t.forget(s)
        t.vacate(s, _FREE)

    # --- the write path -------------------------------------------------------------------
    def commit(self, slot, now):
        """engine.on_commit: writes slot's record (flush + sync) before the engine answers.
        `now` is the engine's time of the change: the record's time left counts from it."""
        if now > self.now:
            self.now = now
        if self.f is None and not self._reopen:
            return              # not opened, closed, or given up (_lost)
        try:
            if self.f is None:
                self.f = open(self.path, "ab")    # an earlier reopen found no memory: again
                self._reopen = False
            if self.count >= self.limit or self._compact_due:
                try:
                    self.compact(self.now)   # writes every slot, this one included
                    return
                except MemoryError:
                    # No room for the new file's object or buffers: not the flash's fault, so
                    # nothing is given up. This record goes to the journal (the bound is soft)
                    # and compaction is tried again at the next commit.
                    self.compact_nomem += 1
                    _remove(self.tmp)
                    gc.collect()
                    if self.f is None:
                        self._reopen = True
                        self.f = open(self.path, "ab")
                        self._reopen = False
            self._pack(slot)
            self._write(self.f, self.rec)
            self._sync(self.f)
            self.count += 1
        except OSError as e:
            # Flash full or failing: the lease is granted all the same (serving comes first),
            # but from here on nothing persists, and that is said once and counted.
            self.write_errors += 1
            self._lost(e)
        except MemoryError:
            # Even the journal could not be opened again: this record is not written (counted).
            # The file is whole, only memory ran out: the next commit opens it and compacts,
            # which writes every slot, this one too.
            self.write_errors += 1
            self._compact_due = True
            gc.collect()

    def _lost(self, e):
        if self.f is not None:
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None
        self._reopen = False
        self.persistent = False
        self.problem = describe(e, path=self.path)
        if self.log is not None:
            self.log("microdhcp: cannot write %s: %s (leases no longer persist)" % (self.path, self.problem))

    def _pack(self, s):
        # Slot s -> self.rec, CRC included. Allocates nothing (on a 32-bit board too).
        e = self.engine
        t = e.table
        r = self.rec
        r[R_TAG] = TAG
        st = t.state[s]
        if st == _OFFERED:
            st = _FREE          # an offer is not a lease: only the client memory is kept
        r[R_STATE] = st
        off = t.offset_of(s)
        net = e.network
        m = e.mask
        for i in range(4):
            r[R_ADDR + i] = net[i] | ((off >> (24 - 8 * i)) & 255 & ~m[i])
        left = _NEVER
        if t.hpos[s] and t.expiry[s] != _NEVER and st != _FREE:
            left = t.expiry[s] - self.now
            if left < 0:
                left = 0
        r[R_LEFT] = (left >> 24) & 255
        r[R_LEFT + 1] = (left >> 16) & 255
        r[R_LEFT + 2] = (left >> 8) & 255
        r[R_LEFT + 3] = left & 255
        self._pack_client(r, s)
        hl = self.host_len
        p = s * hl
        for i in range(hl):
            r[R_HOST + i] = t.host[p + i]
        crc32_halves(r, self.size - 4, self.size - 4)

    def _write(self, f, buf):
        n = f.write(buf)
        if n is not None and n != len(buf):
            raise OSError("short write to lease file")
        self.writes += 1

    def _sync(self, f):
        # flush: on littlefs/FAT (MicroPython) this commits the file; on a host fsync it.
        f.flush()
        if not self.durable:
            return
        if hasattr(os, "fsync") and hasattr(f, "fileno"):
            os.fsync(f.fileno())
        elif hasattr(os, "sync"):
            os.sync()

    def compact(self, now=-1, keep=False):
        """Writes every slot worth keeping to PATH.tmp, then renames it over PATH. A crash at
        any point leaves either the old journal or the new file whole (docs/leases.md).
        keep (true): the old file is damaged; it goes to PATH.bad just before the rename."""
        if now > self.now:
            self.now = now
        t = self.engine.table
        if self.f is not None:
            self.f.close()
            self.f = None
        f = open(self.tmp, "wb")
        n = 0
        try:
            f.write(header_bytes(self.host_len))
            for s in range(t.capacity):
                st = t.state[s]
                if t.has_key(s) or st == _BOUND or st == _DECLINED or st == _RESERVED:
                    self._pack(s)
                    self._write(f, self.rec)
                    n += 1
            self._sync(f)
        except Exception:
            # Flash full (or no memory): the unfinished temp file's space back; the journal is
            # untouched.
            try:
                f.close()
            except OSError:
                pass
            _remove(self.tmp)
            raise
        f.close()
        if keep:
            b = self.path + ".bad"
            _remove(b)
            try:
                os.rename(self.path, b)
                self.bad_path = b
                self._kept = "kept as " + b
            except OSError as e:
                self._kept = "could not be kept (%s); it is overwritten" % describe(e, path=b)
        # Replaces PATH: POSIX, littlefs (lfs2_rename) and MicroPython's FAT, which removes PATH
        # first itself (extmod/vfs_fat.c:248-252): load() finishes a rename cut in between.
        os.rename(self.tmp, self.path)
        if self.durable:
            _sync_dir(self.path)
        self.count = n
        self.compactions += 1
        self._compact_due = False
        self.f = open(self.path, "ab")

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None
