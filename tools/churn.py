#!/usr/bin/env python3
# churn: the long version of host_tests/core/test_churn.py (months of simulated clients on a
# virtual, wrapping ticks_ms), on CPython or the MicroPython unix port:
#   python3 tools/churn.py [--days 90] [--lease 3600] [--clients 254] [--seed 2024] [--quiet]
#   micropython tools/churn.py --days 90 --lease 3600     # also reports the heap (gc.mem_alloc)
import sys

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
sys.path.insert(0, HERE + "/../host_tests/core")
sys.path.insert(0, HERE + "/../firmware")
import gc  # noqa: E402
import test_churn  # noqa: E402


def arg(name, default):
    a = sys.argv
    return int(a[a.index(name) + 1]) if name in a else default


def main():
    days = arg("--days", 90)
    lease = arg("--lease", 3600)
    clients = arg("--clients", 254)
    seed = arg("--seed", 2024)
    log = None if "--quiet" in sys.argv else print
    st = test_churn.simulate(days=days, lease=lease, clients=clients, seed=seed,
                             heap=hasattr(gc, "mem_alloc"), log=log)
    print("churn %d days, lease %d s, %d clients: %r" % (days, lease, clients, st))
    if st["heap"] is not None:
        print("heap from hour 1 to day %d: %d..%d bytes allocated (spread %d)"
              % (days, st["heap"][0], st["heap"][1], st["heap"][1] - st["heap"][0]))
    return 0


sys.exit(main())
