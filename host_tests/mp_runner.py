# mp_runner: runs the core tests (host_tests/core/test_*.py) without pytest, so that the same
# files run under the MicroPython unix port. Test functions take no arguments.
# Usage: micropython host_tests/mp_runner.py [--frozen] [--plain] [name-substring ...]
# --plain: the engine's plain-Python code everywhere, not the machine-code twins of microdhcp.fast
# (harness.use_fast(False)); without it the twins run wherever they compiled (the first line says).
# --frozen: test the microdhcp frozen into the binary (tools/build_firmware.py), not firmware/:
# firmware/ stays off sys.path, and the run stops unless microdhcp really is the frozen copy.
# Ends with "N passed, M failed" and exits 1 on any failure or when nothing ran.
import sys
import os

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
FROZEN = "--frozen" in sys.argv
PLAIN = "--plain" in sys.argv
sys.path.insert(0, HERE + "/core")
sys.path.append(HERE + "/../tools")     # tools/dhcpkit.py, the message builder tests and tools share
if FROZEN:
    sys.path[:] = [p for p in sys.path if p != ""]   # the current folder could shadow the frozen copy
    sys.path.insert(0, ".frozen")
else:
    sys.path.insert(0, HERE + "/../firmware")


def check_frozen():
    # A frozen module's __file__ is the manifest-relative name ("microdhcp/engine.py", from
    # py/builtinimport.c); one loaded from a folder on sys.path carries that folder in front.
    import microdhcp.engine
    f = microdhcp.engine.__file__
    print("microdhcp.engine from", f)
    if f != "microdhcp/engine.py":
        raise SystemExit("--frozen: microdhcp does not come from the frozen modules")


def main(argv):
    argv = [a for a in argv if a not in ("--frozen", "--plain")]
    if FROZEN:
        check_frozen()
    else:
        # From .py source each Config would compile microdhcp.configure again: keep it loaded
        # (test_config.test_config_lets_its_checking_code_go checks the release). Frozen, loading
        # it again costs no compile, so those runs keep the default a board has.
        import microdhcp.config
        microdhcp.config.release_checks = False
    import harness
    avail = harness.fast_available()
    if PLAIN:
        harness.use_fast(False)
    print("engine paths:", "plain (--plain)" if PLAIN else
          ("viper (microdhcp.fast)" if avail else "plain (microdhcp.fast not compiled here)"))
    names = sorted(f[:-3] for f in os.listdir(HERE + "/core") if f.startswith("test_") and f.endswith(".py"))
    passed = failed = 0
    failures = []
    for name in names:
        mod = __import__(name)
        tests = sorted(k for k in dir(mod) if k.startswith("test_"))
        for t in tests:
            full = name + "." + t
            if argv and not any(a in full for a in argv):
                continue
            fn = getattr(mod, t)
            try:
                fn()
                passed += 1
            except Exception as e:
                failed += 1
                failures.append(full)
                print("FAIL", full)
                sys.print_exception(e) if hasattr(sys, "print_exception") else print(repr(e))
    for f in failures:
        print("failed:", f)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


sys.exit(main(sys.argv[1:]))
