# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.configure: checks a server configuration and pre-encodes every option, for
# config.Config. Everything here runs once, before serving, and may allocate. A bad setting raises
# ValueError with a message that says what is wrong and how to fix it. Config imports this module
# for its construction only and lets it go after (config._release; config.release_checks): on a
# board its function objects and module dict, and ipv4's, would otherwise stay in RAM for nothing
# while it serves.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# Modules, not their names: one global each instead of one per function (frozen into a board's
# flash, a module's code costs nothing in RAM, but every global is a slot in its dict).
from microdhcp import ipv4
from microdhcp import leases

# RFC 2132 option codes that the configuration fills in.
_MAX_ID = const(64)              # codes.MAX_ID: the longest client id the table keeps
_OPT_SUBNET_MASK = const(1)
_OPT_ROUTER = const(3)
_OPT_DNS = const(6)
_OPT_DOMAIN_NAME = const(15)
_OPT_MTU = const(26)
_OPT_BROADCAST = const(28)
_OPT_NTP = const(42)
_OPT_IPV6_ONLY = const(108)      # RFC 8925
_OPT_CAPTIVE_PORTAL = const(114) # RFC 8910
_OPT_DOMAIN_SEARCH = const(119)  # RFC 3397
_OPT_CLASSLESS_ROUTES = const(121)  # RFC 3442

# Codes the engine writes itself; a raw option may not replace them.
_ENGINE_CODES = (0, 50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 80, 82, 255)

# Options sent even when the client's parameter request list does not name them:
# a client cannot work without a mask, and router/DNS are what every IoT device needs.
_ALWAYS = (_OPT_SUBNET_MASK, _OPT_ROUTER, _OPT_DNS)

_MAX_LEASE = const(0x3FFFFFFF)  # keep lease arithmetic in small ints on 32-bit ports (docs/boards.md)
_MIN_V6ONLY_WAIT = const(300)   # RFC 8925 section 3.4


def _whole(v, lo, hi):
    # True is an int in Python and MicroPython (isinstance(True, int)): a bool is refused, never
    # taken as 1. type(), not isinstance: a big int is an int on both.
    return type(v) is int and lo <= v <= hi


def _pairs(items, what, example):
    # A single pair given alone (RESERVATIONS = ("02:..", "192.168.4.20")) would unpack its texts;
    # a number or a dict is no list at all.
    items = items or ()
    for item in items if isinstance(items, (tuple, list)) else [None]:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError("%s must be a list of pairs, e.g. [%s]" % (what, example))
    return items


def _ip_list(value, what):
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    elif not isinstance(value, (list, tuple)):
        value = [value]     # one address (parse_ip names the setting if it is none)
    return [ipv4.parse_ip(v, what) for v in value]


def _parse_cidr(text, what):
    text = str(text)
    if "/" not in text:
        raise ValueError("%s %r needs a prefix length, e.g. 10.0.0.0/8" % (what, text))
    a, p = text.split("/", 1)
    if not p.isdigit() or int(p) > 32:
        raise ValueError("%s %r: prefix length must be 0-32" % (what, text))
    return ipv4.parse_ip(a, what), int(p)


def fill(cfg, address, prefix=None, netmask=None, pool=None, lease_time=3600, min_lease=60,
         renew_time=None, rebind_time=None, offer_hold=30, decline_hold=600,
         routers=None, dns=None, domain=None, broadcast=None, mtu=None, ntp=None,
         domain_search=None, routes=None, captive_portal=None, ipv6_only_wait=None,
         raw_options=None, reservations=None, reply_broadcast="255.255.255.255",
         authoritative=True, rapid_commit=False, known_clients_only=False,
         capacity=None, hostname_len=15, max_offers=None, offer_interval=0, mac_pinning=False,
         id_cells=None):
    # Config(address, **settings): checks the settings and sets cfg's attributes. The keywords and
    # defaults are those of microdhcp.settings.SETTINGS (host_tests/test_settings.py checks that
    # they agree); no **kwargs catch-all, so an unknown keyword is a TypeError naming it.
    if isinstance(address, str) and "/" in address:
        address, p = address.split("/", 1)
        if not p.isdigit():
            raise ValueError("address prefix %r is not /8 to /30 (write 192.168.4.1/24)" % p)
        prefix = int(p)
    cfg.server = ipv4.parse_ip(address, "server address")
    if prefix is None:
        if netmask is None:
            prefix = 24
        else:
            prefix = ipv4.mask_to_prefix(ipv4.parse_ip(netmask, "netmask"))
    if not _whole(prefix, 8, 30):
        raise ValueError("subnet prefix /%s is not supported: use /8 to /30" % (prefix,))
    cfg.prefix = prefix
    cfg.mask = ipv4.prefix_to_mask(prefix)
    cfg.network = bytes(cfg.server[i] & cfg.mask[i] for i in range(4))
    cfg.bcast = bytes(cfg.network[i] | (~cfg.mask[i] & 255) for i in range(4))
    cfg.host_max = (1 << (32 - prefix)) - 1  # offset of the broadcast address
    subnet = "%s/%d" % (ipv4.fmt_ip(cfg.network), prefix)
    cfg.subnet_text = subnet
    srv_off = cfg.offset(cfg.server)
    if srv_off == 0 or srv_off == cfg.host_max:
        raise ValueError("server address %s is the network or broadcast address of %s; pick a host address"
                         % (ipv4.fmt_ip(cfg.server), subnet))

    # Pool: a contiguous range of host offsets inside the subnet.
    if pool is None:
        first, last = 1, cfg.host_max - 1
        if srv_off == first:
            first += 1
        elif srv_off == last:
            last -= 1
        elif first <= srv_off <= last:
            raise ValueError("no pool given and the server address %s is inside the subnet's host range; "
                             "give pool=(first, last) that leaves it out" % ipv4.fmt_ip(cfg.server))
    else:
        if isinstance(pool, str):
            if "-" not in pool:
                raise ValueError("pool %r must be written first-last, e.g. 192.168.4.2-192.168.4.249" % pool)
            pool = pool.split("-", 1)
        first = _offset_checked(cfg, pool[0], "pool start")
        last = _offset_checked(cfg, pool[1], "pool end")
        if first > last:
            raise ValueError("pool start %s is after pool end %s; swap them"
                             % (ipv4.fmt_ip(cfg.addr(first)), ipv4.fmt_ip(cfg.addr(last))))
        # (the network and broadcast addresses cannot be inside: _offset_checked refused both ends)
        if first <= srv_off <= last:
            raise ValueError("pool contains the server address %s; move the pool so it leaves the server out"
                             % ipv4.fmt_ip(cfg.server))
    cfg.pool_first = first
    cfg.pool_last = last
    cfg.pool_size = last - first + 1

    # Static reservations: key is the client identity the engine compares (section 4.2):
    # a MAC (matched against htype 1 + chaddr) or a client identifier (option 61).
    cfg.reservations = []
    seen_addr = {}
    seen_key = {}
    for who, ip in _pairs(reservations, "reservations", '("02:00:00:00:00:01", "192.168.4.20")'):
        key = reservation_key(who)
        if len(key) > _MAX_ID:
            raise ValueError("client id of %s is %d bytes; at most %d are kept" % (who, len(key), _MAX_ID))
        off = _offset_checked(cfg, ip, "reservation address")
        if off == srv_off:
            raise ValueError("reservation %s -> %s is the server's own address; pick another" % (who, ip))
        if off in seen_addr:
            raise ValueError("address %s is reserved twice (%s and %s); give each client its own" % (ip, seen_addr[off], who))
        if key in seen_key:
            raise ValueError("client %s has two reservations; keep one" % (who,))
        seen_addr[off] = who
        seen_key[key] = off
        cfg.reservations.append((key, off))
    cfg.extra_offsets = sorted([off for key, off in cfg.reservations if not (first <= off <= last)])
    needed = cfg.pool_size + len(cfg.extra_offsets)
    # The table has one slot per address it serves, no more: capacity is a check of that
    # size (a board's memory plan), never a request for spare slots (nothing could use them).
    if capacity is None:
        capacity = needed
    if capacity != needed or isinstance(capacity, bool):
        raise ValueError("capacity is %d but the pool has %d addresses and %d reservations lie outside it, one "
                         "slot each: set capacity to %d, change the pool, or drop capacity"
                         % (capacity, cfg.pool_size, len(cfg.extra_offsets), needed))
    # The client index stores 16-bit home buckets and is twice the table size: 32768 slots
    # at most (a board holds far fewer).
    if needed > 32768:
        raise ValueError("pool of %d addresses is too large; use at most 32768" % needed)
    cfg.capacity = needed
    if id_cells is None:
        id_cells = leases.default_id_cells(needed)
    if not _whole(id_cells, 0, 60000):
        raise ValueError("id_cells=%r must be a whole number from 0 to 60000" % (id_cells,))
    for key, off in cfg.reservations:
        if not (len(key) == 7 and key[0] == 1):
            id_cells += leases.cells_for(len(key))   # a reservation's own id never competes with clients
    cfg.id_cells = id_cells

    # Times, RFC 2131 4.4.5: T1 defaults to 0.5 and T2 to 0.875 of the lease.
    for name, v in (("lease_time", lease_time), ("min_lease", min_lease), ("offer_hold", offer_hold), ("decline_hold", decline_hold)):
        if not _whole(v, 1, _MAX_LEASE):
            raise ValueError("%s=%r must be a whole number of seconds from 1 to %d" % (name, v, _MAX_LEASE))
    if min_lease > lease_time:
        raise ValueError("min_lease %d is longer than lease_time %d; lower min_lease" % (min_lease, lease_time))
    cfg.lease_time = lease_time
    cfg.min_lease = min_lease
    cfg.offer_hold = offer_hold
    cfg.decline_hold = decline_hold
    if renew_time is not None or rebind_time is not None:
        t1 = renew_time if renew_time is not None else lease_time // 2
        t2 = rebind_time if rebind_time is not None else lease_time * 7 // 8
        if not (_whole(t1, 1, lease_time) and _whole(t2, t1 + 1, lease_time - 1)):
            raise ValueError("renew_time %s and rebind_time %s must satisfy 0 < T1 < T2 < lease_time %d" % (t1, t2, lease_time))
        # Stored as fractions of 1/1024 so that they scale with a shorter granted lease.
        cfg.t1_frac = t1 * 1024 // lease_time
        cfg.t2_frac = t2 * 1024 // lease_time
    else:
        t1 = lease_time // 2
        t2 = lease_time * 7 // 8
        cfg.t1_frac = 512
        cfg.t2_frac = 896
    # Sent exactly when the full lease_time is granted (the fractions round, e.g. 1000 -> 998).
    cfg.renew_time = t1
    cfg.rebind_time = t2

    # Flood protections (docs/security.md).
    if max_offers is None:
        max_offers = cfg.pool_size // 2 if cfg.pool_size > 1 else 1
    if not _whole(max_offers, 1, cfg.capacity):
        raise ValueError("max_offers=%r must be a whole number from 1 to %d (the table size; that means no cap)"
                         % (max_offers, cfg.capacity))
    cfg.max_offers = max_offers
    if not _whole(offer_interval, 0, offer_hold - 1):
        raise ValueError("offer_interval=%r must be a whole number of seconds from 0 (no limit) to offer_hold-1 (%d)"
                         % (offer_interval, offer_hold - 1))
    cfg.offer_interval = offer_interval
    cfg.mac_pinning = bool(mac_pinning)

    cfg.authoritative = bool(authoritative)
    cfg.rapid_commit = bool(rapid_commit)
    cfg.known_clients_only = bool(known_clients_only)
    if not _whole(hostname_len, 0, 63):
        raise ValueError("hostname_len must be 0-63 bytes")
    cfg.hostname_len = hostname_len
    # RFC 2131 4.1: broadcast replies go to 255.255.255.255; a board whose stack sends that out of
    # the wrong interface uses the subnet's (board.use_subnet_broadcast). A host of the subnet is
    # allowed for tests on loopback (host_tests/example_driver.py); anything else (a netmask) is a slip.
    b = cfg.reply_broadcast = ipv4.parse_ip(reply_broadcast, "reply_broadcast")
    if cfg.offset(b) < 1 and min(b) < 255:
        raise ValueError("reply_broadcast %r: use 255.255.255.255 or the subnet's broadcast" % (reply_broadcast,))

    # Pre-encoded option values, code -> bytes (the engine adds code and length).
    opts = {}
    opts[_OPT_SUBNET_MASK] = cfg.mask
    r = _ip_list(routers, "router")
    for a in r:
        if cfg.offset(a) < 0:
            raise ValueError("router %s is not in %s; clients could not reach it" % (ipv4.fmt_ip(a), subnet))
    if r:
        opts[_OPT_ROUTER] = b"".join(r)
    d = _ip_list(dns, "DNS server")
    if d:
        opts[_OPT_DNS] = b"".join(d)
    if domain:
        if not isinstance(domain, str) or len(domain.encode()) > 255:
            raise ValueError("domain %r must be text of at most 255 bytes" % (domain,))
        opts[_OPT_DOMAIN_NAME] = domain.encode()
    b = ipv4.parse_ip(broadcast, "broadcast") if broadcast else cfg.bcast
    opts[_OPT_BROADCAST] = b
    if mtu is not None:
        if not _whole(mtu, 68, 65535):
            raise ValueError("mtu %r must be 68-65535 (RFC 2132 5.1)" % (mtu,))
        opts[_OPT_MTU] = bytes((mtu >> 8, mtu & 255))
    n = _ip_list(ntp, "NTP server")
    if n:
        opts[_OPT_NTP] = b"".join(n)
    if domain_search:
        if isinstance(domain_search, str):
            domain_search = [s for s in domain_search.replace(" ", "").split(",") if s]
        elif not isinstance(domain_search, (list, tuple)):
            domain_search = [domain_search]     # not text: refused below
        # RFC 1035 3.1 wire form without compression (RFC 3397 allows, does not require, it);
        # written here, not in a function of its own: one use, and a function costs flash.
        out = bytearray()
        for name in domain_search:
            name = name.strip().rstrip(".") if isinstance(name, str) else ""
            if not name:
                raise ValueError("domain_search: a name is empty or not text")
            for label in name.split("."):
                lb = label.encode()
                if not lb or len(lb) > 63:
                    raise ValueError("search domain %r has an empty label or one longer than 63 bytes" % name)
                out.append(len(lb))
                out.extend(lb)
            out.append(0)
        opts[_OPT_DOMAIN_SEARCH] = bytes(out)
    rt = _routes(routes, r)
    if rt:
        opts[_OPT_CLASSLESS_ROUTES] = rt
    if captive_portal:
        # (anything else as its text: 5 -> b"5", refused below naming the setting)
        cp = captive_portal if isinstance(captive_portal, (bytes, bytearray)) else str(captive_portal).encode()
        if not (cp.startswith(b"https://") or cp.startswith(b"http://")) or len(cp) > 255:
            raise ValueError("captive_portal %r must be an http(s) URI of at most 255 bytes (RFC 8910)" % (captive_portal,))
        opts[_OPT_CAPTIVE_PORTAL] = cp
    if ipv6_only_wait is not None:
        if not _whole(ipv6_only_wait, _MIN_V6ONLY_WAIT, _MAX_LEASE):
            raise ValueError("ipv6_only_wait must be at least %d seconds (RFC 8925 3.4)" % _MIN_V6ONLY_WAIT)
        opts[_OPT_IPV6_ONLY] = ipv4.from_int(ipv6_only_wait)
    for code, value in (raw_options or {}).items():
        if not _whole(code, 1, 254) or code in _ENGINE_CODES:
            raise ValueError("raw option %r cannot be set: codes 1-254 except %s are allowed" % (code, _ENGINE_CODES[1:-1]))
        if isinstance(value, str):
            value = ipv4.parse_hex(value, "raw option %d" % code)
        opts[code] = bytes(value)
    for code in opts:
        if len(opts[code]) > 1024:
            raise ValueError("option %d is %d bytes; keep options under 1024 bytes" % (code, len(opts[code])))
    cfg.options = opts
    cfg.always = tuple(c for c in _ALWAYS if c in opts)


def _routes(routes, routers):
    # RFC 3442: destination as prefix width + significant octets, then the router.
    if not routes:
        return None
    out = bytearray()
    has_default = False
    for dest, gw in _pairs(routes, "routes", '("10.0.0.0/8", "192.168.4.2")'):
        net, width = _parse_cidr(dest, "route destination")
        if width == 0:
            has_default = True
        out.append(width)
        out.extend(net[:(width + 7) // 8])
        out.extend(ipv4.parse_ip(gw, "route gateway"))
    # RFC 3442 section 2: a client that gets option 121 ignores option 3, so the default
    # route must be repeated here or the client loses it.
    if routers and not has_default:
        out.extend(b"\x00" + routers[0])
    return bytes(out)


def reservation_key(who):
    # "02:00:00:00:00:01" -> htype 1 (Ethernet) + MAC; "id:01:02:..." -> option 61 bytes.
    if isinstance(who, (bytes, bytearray)):
        return bytes(who)
    who = str(who).strip()
    if who.lower().startswith("id:"):
        key = ipv4.parse_hex(who[3:], "client identifier")
        if not key:
            raise ValueError("client identifier %r is empty" % who)
        return key
    return b"\x01" + ipv4.parse_mac(who, "reservation MAC")


def _offset_checked(cfg, text, what):
    ip = ipv4.parse_ip(text, what)
    off = cfg.offset(ip)
    if off < 0:
        raise ValueError("%s %s is outside the subnet %s; use an address inside it" % (what, ipv4.fmt_ip(ip), cfg.subnet_text))
    if off == 0 or off == cfg.host_max:
        raise ValueError("%s %s is the network or broadcast address of %s; use a host address from %s to %s"
                         % (what, ipv4.fmt_ip(ip), cfg.subnet_text, ipv4.fmt_ip(cfg.addr(1)),
                            ipv4.fmt_ip(cfg.addr(cfg.host_max - 1))))
    return off
