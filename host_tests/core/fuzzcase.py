# fuzzcase: what both fuzzers share (the mutation test on both runtimes and tools/fuzz_atheris.py):
# engine set-ups, seed messages, the input format and the per-input checks. Test-side: allocates.
from microdhcp.config import Config
from microdhcp.engine import Engine
import dhcpkit as k
import invariants as inv

SERVER = k.ip("192.168.4.1")
POOL = [k.ip("192.168.4.%d" % i) for i in range(10, 20)]
RES_MAC = 0x63                     # client number whose MAC is reserved to .12 (inside the pool)
RES_ID = b"\xff\x00\x01"           # client id reserved to .50 (outside the pool)
RES_MAC2 = 0x64                    # MAC reserved to .51 (outside the pool)
CLIENTS = (1, 2, 3, 4, 5, RES_MAC, RES_MAC2)

# Engine set-ups; the control byte of an input picks one in fresh-engine mode.
VARIANTS = (
    dict(lease_time=120, min_lease=10, offer_hold=5, decline_hold=20, rapid_commit=True, max_offers=4,
         offer_interval=1, captive_portal="http://192.168.4.1/portal", domain="lan",
         domain_search="lan,example.com", ntp=["192.168.4.1"], mtu=1500, ipv6_only_wait=1800,
         routes=[("10.0.0.0/8", "192.168.4.1")]),
    dict(lease_time=300, min_lease=30, offer_hold=10, decline_hold=30, authoritative=False, mac_pinning=False,
         raw_options={224: "01:02:03", 252: b"x" * 300}),
    dict(lease_time=60, min_lease=60, offer_hold=3, decline_hold=10, known_clients_only=True),
)


def make_engine(variant=0, tx_size=1500, on_event=None):
    cfg = dict(VARIANTS[variant % len(VARIANTS)])
    cfg.update(address="192.168.4.1/24", pool=("192.168.4.10", "192.168.4.19"), routers=["192.168.4.1"],
               dns=["192.168.4.1", "9.9.9.9"],
               reservations=[("02:00:00:00:00:63", "192.168.4.12"), ("id:ff:00:01", "192.168.4.50"),
                             ("02:00:00:00:00:64", "192.168.4.51")])
    e = Engine(Config(**cfg), on_event=on_event)
    e.tx = bytearray(tx_size)
    e.base_sizes = inv.sizes(e)
    e.now = 0
    e.replies = 0
    return e


def _overload(mtype, client, value, file_opts, sname_opts):
    # RFC 2132 9.3: option 52 in the options field, more options in 'file' and/or 'sname'.
    return k.msg(mtype, client, ((52, bytes((value,))),), file=bytes(file_opts), sname=bytes(sname_opts))


def seeds():
    """Valid client messages of every type and shape the engine reads (list of bytearrays)."""
    prl = (55, bytes((1, 3, 6, 15, 26, 28, 42, 108, 114, 119, 121, 224, 252, 3)))
    out = []
    for c in CLIENTS:
        a = POOL[c % len(POOL)]
        out.append(k.msg(k.DISCOVER, c, (prl, (12, ("node%d" % c).encode()))))
        out.append(k.msg(k.REQUEST, c, ((50, a), (54, SERVER), prl)))          # SELECTING
        out.append(k.msg(k.REQUEST, c, ((50, a),)))                           # INIT-REBOOT
        out.append(k.msg(k.REQUEST, c, (), ciaddr=a))                         # RENEWING
        out.append(k.msg(k.REQUEST, c, (), ciaddr=a, flags=0x8000))           # REBINDING
        out.append(k.msg(k.RELEASE, c, ((54, SERVER),), ciaddr=a))
        out.append(k.msg(k.DECLINE, c, ((50, a), (54, SERVER))))
    out.append(k.msg(k.DISCOVER, 9, ((61, RES_ID), (57, b"\x05\xdc"), prl)))
    out.append(k.msg(k.REQUEST, 9, ((61, RES_ID), (50, k.ip("192.168.4.50")), (54, SERVER))))
    out.append(k.msg(k.DISCOVER, 6, ((61, b"\x01" + k.mac(6)), (51, k.u32(30)), (80, b""), prl)))
    out.append(k.msg(k.DISCOVER, 7, ((50, POOL[3]), (57, b"\x02\x40"), prl, (82, b"\x01\x04port\x02\x03rid")),
                     giaddr=k.ip("192.168.4.2")))
    out.append(k.msg(k.REQUEST, 7, ((50, POOL[3]), (54, SERVER), (82, b"\x01\x02ab")), giaddr=k.ip("192.168.4.2")))
    out.append(k.msg(k.REQUEST, 8, ((50, POOL[4]), (54, k.ip("192.168.4.254")))))   # chose another server
    out.append(k.msg(k.INFORM, 8, (prl,), ciaddr=k.ip("192.168.4.200")))
    out.append(k.msg(k.DISCOVER, 8, ((12, b"ab"), (12, b"cd"), (61, b"\x00" + b"L" * 200), (61, b"M" * 200))))
    out.append(_overload(k.DISCOVER, 3, 3, k.opts((61, b"\x01abcdef"), (12, b"file")), k.opts(prl)))
    out.append(_overload(k.REQUEST, 3, 1, k.opts((50, POOL[2]), (54, SERVER)), b""))
    out.append(_overload(k.DISCOVER, 4, 2, b"", k.opts((55, b"\x01\x03"), (55, b"\x06\x72"))))
    out.append(k.msg(k.DISCOVER, 5, (prl,), end=False))
    out.append(k.msg(k.DISCOVER, 5, ((57, b"\x01\x2c"), prl), htype=6, hlen=16, chaddr=b"0123456789abcdef"))
    return out


# Input format of the atheris fuzzer and the crash fixtures: records of
#   ctl (1 byte) | length (2 bytes, big endian) | message
# ctl: low 6 bits pick a time step, bits 6-7 the engine variant (fresh mode). A short or
# inconsistent length takes what is left, so every byte string is a valid input.
def step_of(ctl):
    v = ctl & 63
    if v < 40:
        return v // 4            # 0..9 s: within offer holds
    if v < 56:
        return (v - 39) * 15     # 15..255 s: past holds, T1 and short leases
    return (v - 55) * 600        # up to 80 minutes


def records(data):
    out = []
    i = 0
    n = len(data)
    while i < n:
        if n - i < 3:
            out.append((0, data[i:]))
            break
        ctl = data[i]
        ln = (data[i + 1] << 8) | data[i + 2]
        i += 3
        out.append((ctl, data[i:i + ln]))
        i += ln
    return out


def encode(recs):
    out = bytearray()
    for ctl, m in recs:
        out.append(ctl)
        out.append(len(m) >> 8)
        out.append(len(m) & 255)
        out.extend(m)
    return bytes(out)


def run_one(e, msg, step=0, handle=None):
    """Feeds one message at e.now + step and checks every invariant; returns the reply length.
    `handle`, if given, is called as handle(e, msg, now, tx) instead of e.handle (heap-locked runs)."""
    e.now += step
    if handle is None:
        n = e.handle(msg, e.now, e.tx)
    else:
        n = handle(e, msg, e.now, e.tx)
    inv.check(e, e.now, e.base_sizes)
    if n:
        inv.check_reply(e, msg, n, e.tx)
        e.replies += 1
    return n


def run_input(data, e=None, handle=None):
    """An atheris-format input: on `e` (persistent) or on a fresh engine of the variant in the first
    record. Returns the engine."""
    recs = records(data)
    if e is None:
        e = make_engine((recs[0][0] >> 6) if recs else 0)
    for ctl, m in recs:
        run_one(e, m, step_of(ctl), handle)
    return e
