"""unittest glue: log dumps on failure, exit codes for ctest."""

import sys
import unittest

from .core import SKIP, Skip, _all_procs, run_cleanups


# ---------------------------------------------------------------- unittest glue

class TestCase(unittest.TestCase):
    """Prints the logs of the processes a test started when it fails, and
    kills what is left of them after each test."""

    def run(self, result=None):
        result = result or self.defaultTestResult()
        first = len(_all_procs)
        bad = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            mine = _all_procs[first:]
            if len(result.failures) + len(result.errors) > bad:
                for p in mine:
                    p.dump_log()
            for p in mine:
                p._kill_at_exit()


def main():
    """Runs the unittest cases of __main__; exits 0, 1 (failure) or 77
    (a prerequisite is missing: every test skipped with a Skip)."""
    try:
        prog = unittest.main(module="__main__", exit=False, verbosity=2)
    except Skip as e:
        print("SKIP: %s" % e)
        run_cleanups()
        sys.exit(SKIP)
    res = prog.result
    run_cleanups()
    if not res.wasSuccessful():
        print("FAILED: %d failure(s), %d error(s)" % (len(res.failures), len(res.errors)))
        sys.exit(1)
    # Class-level skips (setUpClass) are reported without a test instance.
    skipped_tests = sum(1 for t, _ in res.skipped if isinstance(t, unittest.TestCase))
    if res.skipped and res.testsRun == skipped_tests:
        print("SKIP: every test skipped: %s" % res.skipped[0][1])
        sys.exit(SKIP)
    sys.exit(0)
