#!/usr/bin/env python3
"""Coverage-guided fuzzing of the DNS responder (microdhcp.dns) with atheris, in the manner of
tools/fuzz_atheris.py for the DHCP engine. Each input is one query, given to a captive-mode and
a names-mode responder (the names one over a lease table with a leased hostname); every reply
must pass host_tests/core/dnskit.check_reply (strict RFC 1035 parse, ID/RD echoed, QR/AA set,
RA clear). A failing input is saved under host_tests/fuzz_corpus/dns_crashes/, where
host_tests/core/test_dns_fuzz.py replays it on both runtimes.
    python3 tools/fuzz_dns_atheris.py --seconds 60
"""
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
sys.path.insert(0, os.path.join(ROOT, "host_tests", "core"))
CRASHES = os.path.join(ROOT, "host_tests", "fuzz_corpus", "dns_crashes")


def main(argv):
    seconds = 60
    if "--seconds" in argv:
        seconds = int(argv[argv.index("--seconds") + 1])
    import atheris
    with atheris.instrument_imports(include=["microdhcp"]):
        import microdhcp.dns  # noqa: F401
    import test_dns_fuzz as tf
    rs = tf.responders()
    tx = bytearray(512)
    corpus = os.path.join(ROOT, "build", "dns-corpus")
    os.makedirs(corpus, exist_ok=True)
    for i, q in enumerate(tf.seeds()):
        with open(os.path.join(corpus, "seed%d" % i), "wb") as f:
            f.write(q)

    def target(data):
        try:
            for r in rs:
                tf.run_one(r, tx, data)
        except Exception:
            os.makedirs(CRASHES, exist_ok=True)
            path = os.path.join(CRASHES, "dns-" + hashlib.sha1(data).hexdigest())
            with open(path, "wb") as f:
                f.write(data)
            print("crash input saved as", path, flush=True)
            raise
    # libFuzzer's own copy of a crashing input goes under build/ (ours is saved above), not into
    # the working directory.
    arts = os.path.join(ROOT, "build", "dns-artifacts") + os.sep
    os.makedirs(arts, exist_ok=True)
    atheris.Setup([sys.argv[0], "-max_total_time=%d" % seconds, "-max_len=600", "-artifact_prefix=" + arts,
                   corpus], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv[1:])
