# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.codes: the server's public numbers: message types, counters, lease events, reply
# destinations, the parser's option indexes, parse results and buffer sizes, and the lease table's
# states and field sizes. The serving core (packet, leases, engine, identity, reply, net) and the
# store compile their own private constants instead (an imported or public name is a slot in a
# module dict, heap on a board, and a look-up per use); host_tests/core/test_fastpaths.py checks
# every private copy against these.
# Application code (on_event handlers, status pages) imports them from here; nothing on the
# packet path does, so a server that never asks for them never loads this module.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# RFC 2132 section 9.6 message types.
DHCPDISCOVER = const(1)
DHCPOFFER = const(2)
DHCPREQUEST = const(3)
DHCPDECLINE = const(4)
DHCPACK = const(5)
DHCPNAK = const(6)
DHCPRELEASE = const(7)
DHCPINFORM = const(8)

# Engine.counters: index -> name in status.COUNTER_NAMES. 1..8 are the parser's drop reasons,
# counted at their own value (E_SHORT .. E_TOO_LONG below).
C_RECEIVED = const(0)
C_REPLIED = const(9)
C_OFFER = const(10)
C_ACK = const(11)
C_NAK = const(12)
C_DECLINE = const(13)
C_RELEASE = const(14)
C_INFORM = const(15)
C_EXHAUSTED = const(16)
C_UNKNOWN_CLIENT = const(17)
C_OTHER_SERVER = const(18)
C_IGNORED = const(19)        # well formed but changes nothing (e.g. RELEASE of someone else's address)
C_WRONG_RELAY = const(20)
C_NOT_CLIENT_MSG = const(21)  # OFFER/ACK/NAK seen from another server
C_BAD_REQUEST = const(22)
C_OVERSIZE = const(23)
C_EXPIRED = const(24)
C_OFFER_CAP = const(25)      # DISCOVER from a new client while max_offers offers are outstanding
C_RATE_LIMITED = const(26)   # DISCOVER repeated within offer_interval of the last OFFER
C_ID_MISMATCH = const(27)    # mac_pinning: as C_ID_PINNED, but that htype + chaddr is the pinned lease's own id
C_ID_TOO_LONG = const(28)    # client identity longer than MAX_ID bytes: not kept, not served
C_ID_ARENA_FULL = const(29)  # a new long client id found no arena room (every cell held by a live lease)
C_ID_PINNED = const(30)      # mac_pinning: a pinned lease's client id from another hardware address, served as that address
NCOUNT = const(31)           # the counters that restart; status.COUNTER_NAMES names them and C_RESTARTS
C_RESTARTS = const(31)       # Engine.counters[C_RESTARTS]: times the counters above started again
                             # from 0 (at 2**29 received, in Engine.tick: they stay small ints)

# Lease events passed to on_event(kind, slot); slot is -1 for EV_NOADDR, EV_NAK and EV_INFORM.
EV_OFFER = const(1)
EV_BOUND = const(2)
EV_RENEWED = const(3)
EV_RELEASED = const(4)
EV_DECLINED = const(5)
EV_EXPIRED = const(6)
EV_NAK = const(7)
EV_NOADDR = const(8)
EV_INFORM = const(9)          # status.EVENT_TAGS: their log tags

# Where Engine.handle's reply goes (Engine.dst_kind): the broadcast address (Engine.reply_broadcast),
# port 68, or Engine.dst, port Engine.dst_port.
DST_BROADCAST = const(0)
DST_UNICAST = const(1)

# The parser (packet.Request): indexes of the options the engine reads, into Request.off, .ln and
# .cnt, in the order of packet.TRACKED (the option code after each).
HOSTNAME = const(0)      # 12
REQ_ADDR = const(1)      # 50
LEASE = const(2)         # 51
MSG_TYPE = const(3)      # 53
SERVER_ID = const(4)     # 54
PRL = const(5)           # 55
MAX_SIZE = const(6)      # 57
CLIENT_ID = const(7)     # 61
RAPID = const(8)         # 80, RFC 4039
RELAY = const(9)         # 82, RFC 3046

# Request.parse results; nonzero values are drop reasons, and each is also the index of its own
# counter in Engine.counters (named in status.COUNTER_NAMES; the C_* above start after E_TOO_LONG):
# host_tests/core/test_parse.py checks the names against these values.
OK = const(0)
E_SHORT = const(1)       # shorter than the fixed header and cookie
E_NOT_REQUEST = const(2)  # op is not BOOTREQUEST
E_HLEN = const(3)        # hlen outside 1..16
E_COOKIE = const(4)      # magic cookie missing (a BOOTP client, or garbage)
E_OPTION = const(5)      # an option runs past the end of its field
E_NO_TYPE = const(6)     # no usable option 53
E_BAD_LEN = const(7)     # an option we read has an impossible length
E_TOO_LONG = const(8)    # joined options (RFC 3396) past the room of the parser's work area

# Header fields read off the packet path (status.event_line) from a parsed message's buffer.
HDR_HLEN = const(2)      # RFC 2131 section 2: hlen, 1..16 once parsed (E_HLEN otherwise)
HDR_CIADDR = const(12)
HDR_CHADDR = const(28)

RX_MAX = const(1500)     # the longest datagram served: one Ethernet-sized datagram
SCRATCH = const(1024)    # the client's reply parser (clientmsg.Reply): room for RFC 3396 joins

# The lease table (leases.LeaseTable): slot states (table.state[s]); FREE, RELEASED and EXPIRED
# slots are available (in the free list), a FREE slot with a key remembers an offer that lapsed,
# RELEASED/EXPIRED remember the last client; STATE_NAMES[state] is the state's name.
FREE = const(0)
OFFERED = const(1)
BOUND = const(2)
RELEASED = const(3)
EXPIRED = const(4)
DECLINED = const(5)
RESERVED = const(6)
STATE_NAMES = ("free", "offered", "bound", "released", "expired", "declined", "reserved")
F_RESERVED = const(1)    # table.flags[s] bit 0: a static reservation owns this slot for good
HW_SIZE = const(7)       # table.hw: htype + the first 6 bytes of chaddr per slot (Ethernet and Wi-Fi use 6)
HW_ROOM = const(6)       # chaddr bytes kept in table.hw
MAX_ID = const(64)       # longest client identity kept; longer ones are refused (counter id_too_long)
KEY_SIZE = const(65)     # length byte + MAX_ID: the engine's identity buffer and the store's key field
NEVER = const(0x3FFFFFFF)  # table.expiry of "no expiry": the largest small int on 32-bit ports
