# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.config: the server's settings, checked once at start-up and pre-encoded for the engine.
# The checking and encoding is microdhcp.configure, imported while a Config is built and let go
# after (_release): frozen into a board's flash its code costs no RAM, but its function objects
# and module dict do, and ipv4's with them, and serving never calls them (656 B live with the
# package frozen, ~9 KB with its bytecode loaded from .mpy; docs/performance.md, issue 11's fourth
# round).
import sys

# True (the default, what a board and the host command run): configure, and ipv4 when nothing
# else had loaded it, are let go after each Config is built. A test suite that builds thousands of
# Configs from .py source sets it False (host_tests/conftest.py, host_tests/mp_runner.py): loading
# configure again for each would compile it each time, and tripled the suite's time.
release_checks = True


class Config:
    """The server's settings, checked once and pre-encoded for the engine.

    Every setting is also a capitalised name in a board's ``config.py`` and a flag of the host
    command (docs/configuration.md). Addresses are text (``"192.168.4.1"``) or 4 bytes. A bad value
    raises ``ValueError`` saying what is wrong and how to fix it; an unknown keyword raises
    ``TypeError`` naming it. (MicroPython drops docstrings when it compiles: this text costs a
    board nothing.)

    :param address: The server's address, also its server identifier (option 54); ``"a.b.c.d/N"``
                    gives the subnet too.
    :param prefix: The subnet prefix length when ``address`` has no ``/N`` (default 24).
    :param netmask: The subnet mask, instead of ``prefix``.
    :param pool: The addresses handed out: ``(first, last)`` or ``"first-last"``. Default: every
                 host address of the subnet but the server's, which must then be first or last.
    :param lease_time: Seconds granted by default, and the most a client may ask for (option 51).
    :param min_lease: The least granted when a client asks for a shorter lease.
    :param renew_time: T1 (option 58); default half the lease (RFC 2131 4.4.5).
    :param rebind_time: T2 (option 59); default 7/8 of the lease.
    :param offer_hold: Seconds an offered address stays reserved for its client.
    :param decline_hold: Seconds a declined address stays out of the pool (RFC 2131 4.3.3). Every
                         time in seconds is 1 to 2**30 - 1; what would end past second 2**30 - 1 of
                         the server clock ends there: never (docs/configuration.md).
    :param routers: Routers (option 3): a list or a comma-separated string.
    :param dns: DNS servers (option 6).
    :param domain: Domain name (option 15).
    :param broadcast: The broadcast address told to clients (option 28); default the subnet's.
    :param mtu: Interface MTU (option 26), 68-65535.
    :param ntp: NTP servers (option 42).
    :param domain_search: Domain search list (option 119, RFC 3397).
    :param routes: Classless static routes (option 121, RFC 3442): ``[("10.0.0.0/8", gateway), ...]``.
                   The default route through the first router is added (RFC 3442 section 2).
    :param captive_portal: Captive-portal URI (option 114, RFC 8910), http or https.
    :param ipv6_only_wait: IPv6-only preferred wait in seconds, at least 300 (option 108, RFC 8925);
                           sent only to clients that ask for it.
    :param raw_options: Any other option: ``{code: bytes or hex text}``.
    :param reservations: Static leases: ``[(MAC or "id:01:02:..", address), ...]``; a MAC reservation
                         wins over the client id the same client may send.
    :param reply_broadcast: Where broadcast replies are sent (a board may need the subnet's).
    :param authoritative: NAK requests for addresses we do not give (RFC 2131 4.3.2); False: stay
                          silent for clients we do not know.
    :param rapid_commit: Answer a DISCOVER that carries option 80 with an ACK (RFC 4039).
    :param known_clients_only: Serve reserved clients only (counter ``unknown_client``).
    :param capacity: The table size, as a check: it must equal the pool plus the reservations
                     outside it (one slot each); anything else is refused.
    :param hostname_len: Bytes of each client's hostname (option 12) kept for listings, 0-63.
    :param max_offers: Outstanding OFFERs beyond which a client we hold nothing for gets none
                       (DISCOVER-flood cap); default half the pool. Returning, bound and reserved
                       clients are served above it; the pool size means no cap.
    :param offer_interval: The least seconds between two OFFERs to one client (0: no limit).
    :param mac_pinning: Off (default, RFC 2131 4.2): the client id is the client, from any hardware
                        address. On: a live lease found by client id belongs to the hardware address
                        that obtained it; the same id from another one is served as another client
                        (its own address, counter ``id_pinned``), so a copied id cannot renew,
                        release or decline the lease (docs/security.md).
    :param id_cells: 20-byte cells for client ids that are not htype 1 + the MAC (e.g. RFC 4361
                     ids, one cell each up to 19 bytes); default half the table. When every cell
                     is held by a live lease a new such client gets no answer (``id_arena_full``);
                     remembered ids of free addresses are dropped first. Reservations by client id
                     get cells on top of these.
    """
    # What configure.fill sets: annotations without a value, which MicroPython compiles to nothing
    # (no heap, no flash beyond the names); they tell the type checker and the reader what a
    # Config holds (host_tests/test_settings.py checks them against fill).
    server: bytes           # 4 bytes each: the server's address, the subnet's mask, network and
    mask: bytes             # broadcast address, where broadcast replies go
    network: bytes
    bcast: bytes
    reply_broadcast: bytes
    prefix: int
    host_max: int           # host offset of the broadcast address
    subnet_text: str        # "a.b.c.d/N"
    pool_first: int         # host offsets
    pool_last: int
    pool_size: int
    reservations: list      # [(client key bytes, host offset), ...]
    extra_offsets: list     # reserved host offsets outside the pool, sorted
    capacity: int
    id_cells: int
    lease_time: int         # seconds
    min_lease: int
    offer_hold: int
    decline_hold: int
    renew_time: int         # T1 and T2 for the full lease_time; t1_frac, t2_frac in 1/1024 of a lease
    rebind_time: int
    t1_frac: int
    t2_frac: int
    max_offers: int
    offer_interval: int
    mac_pinning: bool
    authoritative: bool
    rapid_commit: bool
    known_clients_only: bool
    hostname_len: int
    options: dict           # option code -> encoded value
    always: tuple           # codes sent whether or not option 55 names them

    def __init__(self, address, **settings):
        # The keywords and their defaults are configure.fill's, those of microdhcp.settings.SETTINGS
        # (host only; a test checks that they agree): kept there, the defaults tuple goes with the
        # module. An unknown keyword is a TypeError naming it on both runtimes (fill's signature);
        # board.make_config says more.
        held = "microdhcp.ipv4" in sys.modules     # a module that needs ipv4 while serving keeps it
        from microdhcp import configure
        try:
            configure.fill(self, address, **settings)
        finally:
            del configure
            if release_checks:
                _release("configure")
                if not held:
                    _release("ipv4")

    def offset(self, ip, pos=0):
        # Host offset of the 4-byte address at ip[pos:pos + 4] inside our subnet, or -1 outside it
        # (engine._off_at is this, written out for the packet path).
        off = 0
        for i in range(4):
            if ip[pos + i] & self.mask[i] != self.network[i]:
                return -1
            off = (off << 8) | (ip[pos + i] & ~self.mask[i] & 255)
        return off

    def addr(self, off):
        # Host offset -> 4 bytes (start-up and display): the network's octets OR the offset's.
        n = self.network
        return bytes((n[0] | (off >> 24), n[1] | ((off >> 16) & 255), n[2] | ((off >> 8) & 255), n[3] | (off & 255)))


def _release(name):
    # Lets a start-up module go: sys.modules and the package's attribute (MicroPython sets it too,
    # py/builtinimport.c:524-526) are its last references once its caller has dropped its own, so the
    # next collection frees its function objects and dict. A later import loads it again.
    sys.modules.pop("microdhcp." + name, None)
    pkg = sys.modules.get("microdhcp")
    if pkg is not None and hasattr(pkg, name):
        delattr(pkg, name)
