# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.settings: the one table of server settings, for people and for the host command.
# Each row: (name, command-line flag, type, default, one-line help). config.Config takes these
# names as keywords with these defaults (host_tests/core/test_settings.py checks that they agree);
# the host command's flags and --help (microdhcp.__main__), the boards' config.py names
# (board.make_config: the name in capitals) and docs/configuration.md (tools/configdoc.py) all
# come from it. Host only: a board never imports it (its help text would cost RAM loaded from
# .mpy and flash frozen), so it is not in the board install units (package.json, manifest.py).
#
# Types, as the command line reads them:
#   int     a whole number            bool   a flag (present: the opposite of the default)
#   ip      a.b.c.d                   ips    a.b.c.d[,a.b.c.d...]
#   cidr    a.b.c.d/N                 range  first-last
#   str     text                      names  name[,name...]
#   route   NET/N=GW, repeatable      option CODE=HEX, repeatable
#   reserve MAC=IP or id:HEX=IP, repeatable

SETTINGS = (
    ("address", "--address", "cidr", None, "server address and subnet, e.g. 192.168.4.1/24 (required); also option 54"),
    ("prefix", "--prefix", "int", None, "subnet prefix length when address has no /N (default 24)"),
    ("netmask", "--netmask", "ip", None, "subnet mask, instead of prefix"),
    ("pool", "--pool", "range", None, "addresses handed out, first-last (default: every host address but the server's)"),
    ("lease_time", "--lease", "int", 3600, "lease granted, seconds, and the most a client may ask for (option 51)"),
    ("min_lease", "--min-lease", "int", 60, "the least lease granted when a client asks for a shorter one, seconds"),
    ("renew_time", "--renew-time", "int", None, "T1, seconds (option 58; default half the lease, RFC 2131 4.4.5)"),
    ("rebind_time", "--rebind-time", "int", None, "T2, seconds (option 59; default 7/8 of the lease)"),
    ("offer_hold", "--offer-hold", "int", 30, "seconds an offered address stays reserved for its client"),
    ("decline_hold", "--decline-hold", "int", 600, "seconds a declined address stays out of the pool"),
    ("routers", "--router", "ips", None, "routers (option 3)"),
    ("dns", "--dns", "ips", None, "DNS servers (option 6)"),
    ("domain", "--domain", "str", None, "domain name (option 15)"),
    ("broadcast", "--broadcast-option", "ip", None, "broadcast address told to clients (option 28; default the subnet's)"),
    ("mtu", "--mtu", "int", None, "interface MTU (option 26), 68-65535"),
    ("ntp", "--ntp", "ips", None, "NTP servers (option 42)"),
    ("domain_search", "--search", "names", None, "domain search list (option 119, RFC 3397)"),
    ("routes", "--route", "route", None, "classless static route (option 121, RFC 3442)"),
    ("captive_portal", "--captive-portal", "str", None, "captive-portal URI (option 114, RFC 8910)"),
    ("ipv6_only_wait", "--ipv6-only-wait", "int", None, "IPv6-only preferred wait, seconds >= 300 (option 108, RFC 8925)"),
    ("raw_options", "--option", "option", None, "any other option by code, value in hex"),
    ("reservations", "--reserve", "reserve", None, "static lease by MAC, or by client id (id:HEX)"),
    ("reply_broadcast", "--broadcast", "ip", "255.255.255.255", "where broadcast replies go: 255.255.255.255 or the subnet's broadcast"),
    ("authoritative", "--not-authoritative", "bool", True, "NAK requests for addresses we do not give (off: stay silent, RFC 2131 4.3.2)"),
    ("rapid_commit", "--rapid-commit", "bool", False, "answer a DISCOVER with option 80 by an ACK (RFC 4039)"),
    ("known_clients_only", "--known-clients-only", "bool", False, "serve reserved clients only"),
    ("capacity", "--capacity", "int", None, "table size check: must equal pool + reservations outside it (default: that)"),
    ("hostname_len", "--hostname-len", "int", 15, "bytes of each client's hostname (option 12) kept, 0-63"),
    ("max_offers", "--max-offers", "int", None, "outstanding OFFERs beyond which new clients get none (default half the pool)"),
    ("offer_interval", "--offer-interval", "int", 0, "least seconds between two OFFERs to one client; 0 means no limit"),
    ("mac_pinning", "--mac-pinning", "bool", False, "a live lease's client id from another MAC is another client (docs/security.md)"),
    ("id_cells", "--id-cells", "int", None, "20-byte cells for client ids that are not 01 + MAC (default half the table)"),
)

NAMES = tuple(row[0] for row in SETTINGS)


def by_flag(flag):
    # The row whose command-line flag is `flag`, or None.
    for row in SETTINGS:
        if row[1] == flag:
            return row
    return None


def _arg(typ):
    # The value placeholder shown in --help.
    return {"cidr": "IP/PREFIX", "int": "N", "ip": "IP", "ips": "IP[,IP]", "range": "FIRST-LAST", "str": "TEXT",
            "names": "NAME[,NAME]", "route": "NET/N=GW", "option": "CODE=HEX", "reserve": "MAC=IP"}.get(typ, "")


def _default_text(row):
    name, flag, typ, default, text = row
    if typ == "bool":
        return "off" if not default else "on"
    if default is None:
        return "-"
    return str(default)


def usage_lines():
    # The settings part of the host command's --help, one line each (two when the flag is long).
    out = []
    for row in SETTINGS:
        name, flag, typ, default, text = row
        left = "  %s %s" % (flag, _arg(typ)) if typ != "bool" else "  " + flag
        if typ in ("route", "option", "reserve"):
            text += ", repeatable"
        if default is not None and typ != "bool" and "default" not in text:
            text += " (default %s)" % default
        if len(left) > 25:
            out.append(left)
            left = ""
        out.append("%-26s%s" % (left, text))
    return out


def markdown():
    # The table in docs/configuration.md (tools/configdoc.py writes it; a test checks it is current).
    out = ["| Setting (Config keyword) | Board config.py | Command line | Type | Default | Meaning |",
           "|---|---|---|---|---|---|"]
    for row in SETTINGS:
        name, flag, typ, default, text = row
        out.append("| `%s` | `%s` | `%s%s` | %s | %s | %s |" % (
            name, name.upper(), flag, (" " + _arg(typ)) if typ != "bool" else "", typ, _default_text(row),
            text.replace("|", "\\|")))
    return "\n".join(out) + "\n"
