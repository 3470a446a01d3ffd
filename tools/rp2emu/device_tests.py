# device_tests: runs frozen core test modules on the board, as host_tests/mp_runner.py does on the
# unix port. tools/test_rp2.py pastes it through the raw REPL after lines that set NAMES (the
# frozen test modules, see tools/build_rp2.py) and SKIP (tests not run here, each with its reason
# in tools/test_rp2.py; they still run on both host runtimes). Prints one PASS/FAIL line per test with the
# microseconds it took, and ends with "device-tests N passed, M failed".
import gc
import sys
import time


def _run(names, skip):
    passed = failed = 0
    for name in names:
        gc.collect()
        try:
            mod = __import__(name)
        except Exception as e:
            failed += 1
            print("FAIL %s (import)" % name)
            sys.print_exception(e)
            continue
        for t in sorted(k for k in dir(mod) if k.startswith("test_")):
            if name + "." + t in skip:
                print("SKIP %s.%s" % (name, t))
                continue
            fn = getattr(mod, t)
            t0 = time.ticks_us()
            try:
                fn()
                ok = True
            except Exception as e:
                ok = False
                err = e
            dt = time.ticks_diff(time.ticks_us(), t0)
            if ok:
                passed += 1
                print("PASS %s.%s %d us" % (name, t, dt))
            else:
                failed += 1
                print("FAIL %s.%s %d us" % (name, t, dt))
                sys.print_exception(err)
        del sys.modules[name]
        mod = None
    print("device-tests %d passed, %d failed" % (passed, failed))


_run(NAMES, SKIP)  # noqa: F821 (set by the lines tools/test_rp2.py puts before this file)
