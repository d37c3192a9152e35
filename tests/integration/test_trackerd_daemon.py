"""trackerd as a daemon: command line, config errors, signals (SIGHUP reload,
SIGTERM exit 0), peer expiry, threads, /stats."""

import json
import os
import re
import signal
import time

import statest as st


def ih(tag):
    return st.hashlib.sha1(tag.encode()).digest()


def refused(r):
    return b"failure reason" in r


class CommandLine(st.TestCase):
    def setUp(self):
        self.bin = st.sta_binary("trackerd")
        self.dir = st.tempdir("trackerd-cli-")

    def conf(self, text):
        p = os.path.join(self.dir, "t.conf")
        with open(p, "w") as f:
            f.write(text)
        return p

    def test_help_and_version(self):
        r = st.run([self.bin, "--help"], timeout=10)
        for opt in ("--config", "--http", "--udp", "--state-dir", "--threads", "--log-level",
                    "--check-config", "--version"):
            self.assertIn(opt, r.out + r.err, "--help does not mention " + opt)
        r = st.run([self.bin, "--version"], timeout=10)
        self.assertRegex(r.out + r.err, r"\b\d+\.\d+\.\d+\b")

    def test_unknown_option_fails(self):
        r = st.run([self.bin, "--no-such-option"], timeout=10, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.err.strip(), "no message on stderr")

    def bad_config(self, text, line):
        p = self.conf(text)
        for extra in ([], ["--check-config"]):
            r = st.run([self.bin, "--config", p, "--state-dir", self.dir] + extra, timeout=10,
                       check=False)
            self.assertEqual(r.returncode, 1, "config %r %s: exit %d, stderr %r"
                             % (text, extra, r.returncode, r.err))
            if line is not None:
                self.assertIn("%s:%d" % (p, line), r.err,
                              "config %r: stderr lacks FILE:LINE: %r" % (text, r.err))

    def test_bad_configs(self):
        self.bad_config('threads = 1;\nlog_level = "info";\nthis is not libconfig\n', 3)
        self.bad_config('threads = 1;\nno_such_key = 5;\n', 2)
        self.bad_config('threads = -4;\n', 1)
        self.bad_config('\n\nthreads = "four";\n', 3)
        self.bad_config('access_mode = "maybe";\n', 1)
        self.bad_config('log_level = "chatty";\n', 1)
        self.bad_config('peer_timeout = 0;\n', 1)
        self.bad_config('http_listen = "127.0.0.1:1";\n', 1)       # not a list
        self.bad_config('threads = 1;\n' * 2, 2)                    # duplicate
        self.bad_config('http_listen = ["no port here"];\n', None)
        self.bad_config('udp_listen = ["127.0.0.1:99999"];\n', None)
        self.bad_config('http_listen = [];\nudp_listen = [];\n', None)
        self.bad_config('announce_interval = 100;\nmin_interval = 200;\n', None)

    def test_missing_config_file(self):
        r = st.run([self.bin, "--config", os.path.join(self.dir, "absent.conf")], timeout=10,
                   check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("absent.conf", r.err)

    def test_check_config_good(self):
        port = st.free_port()
        p = self.conf('http_listen = ["127.0.0.1:%d"];\nudp_listen = [];\nstate_dir = "%s";\n'
                      % (port, self.dir))
        r = st.run([self.bin, "--config", p, "--check-config"], timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertFalse(st.tcp_ready("127.0.0.1", port), "--check-config left a listener")

    def test_command_line_listeners(self):
        hp, up = st.free_port(), st.free_port()
        p = st.Proc([self.bin, "--http", "127.0.0.1:%d" % hp, "--udp", "127.0.0.1:%d" % up,
                     "--state-dir", os.path.join(self.dir, "state"), "--threads", "2",
                     "--log-level", "debug"], "trackerd-cli", self.dir)
        st.wait_until(lambda: p.running() and st.tcp_ready("127.0.0.1", hp) and
                      st.udp_ready("127.0.0.1", up), st.slack(10), "trackerd to listen")
        r = st.http_get("127.0.0.1", hp, "/announce?" + st.qs(
            st.announce_params(ih("cli"), st.peer_id(1), 1234)))
        self.assertEqual(r.status, 200)
        self.assertFalse(refused(r.bdecoded()))
        p.stop()


class Signals(st.TestCase):
    def setUp(self):
        self.t = st.Trackerd()

    def tearDown(self):
        if self.t.proc.running():
            self.t.stop()

    def test_sigterm_exits_zero(self):
        self.t.announce(ih("term"), st.peer_id(1), 1, left=0)
        self.t.stop(expect_rc=0)
        self.assertFalse(st.tcp_ready(*self.t.http))

    def test_sighup_reloads_access_list(self):
        a, b = ih("access-a"), ih("access-b")
        self.assertFalse(refused(self.t.announce(b, st.peer_id(1), 6001, source="127.0.0.51")))
        self.assertFalse(refused(self.t.announce(a, st.peer_id(2), 6002, source="127.0.0.52")))
        acl = os.path.join(self.t.dir, "access.txt")
        with open(acl, "w") as f:
            f.write("# allowed torrents\n%s\n" % a.hex())
        self.t.write_config(access_mode="allow", access_file=acl)
        self.t.reload()
        r = self.t.announce(b, st.peer_id(3), 6003, source="127.0.0.53")
        self.assertTrue(refused(r), "hash not in allow list still accepted after SIGHUP")
        r = self.t.announce(a, st.peer_id(4), 6004, left=5, source="127.0.0.54")
        self.assertFalse(refused(r))
        # The swarm of the allowed hash survived the reload.
        self.assertIn(("127.0.0.52", 6002), st.reply_peers(r))
        with self.t.udp_client() as u:
            u.connect()
            self.assertIn("error", u.announce(b, st.peer_id(5), 6005))
            self.assertNotIn("error", u.announce(a, st.peer_id(5), 6005))
        # Deny mode with the same file flips it around.
        self.t.write_config(access_mode="deny")
        self.t.reload()
        self.assertTrue(refused(self.t.announce(a, st.peer_id(6), 6006)))
        self.assertFalse(refused(self.t.announce(b, st.peer_id(6), 6006)))
        # Editing only the list file is picked up by the next SIGHUP too.
        with open(acl, "w") as f:
            f.write("%s\n" % b.hex().upper())
        self.t.reload()
        self.assertFalse(refused(self.t.announce(a, st.peer_id(7), 6007)))
        self.assertTrue(refused(self.t.announce(b, st.peer_id(7), 6007)))

    def test_sighup_reloads_intervals(self):
        self.t.write_config(announce_interval=1234, min_interval=567)
        self.t.reload()
        r = self.t.announce(ih("interval"), st.peer_id(1), 1, left=0)
        self.assertEqual(r[b"interval"], 1234)
        self.assertEqual(r.get(b"min interval"), 567)

    def test_bad_reload_keeps_running(self):
        self.t.write_config(announce_interval=1111)
        self.t.reload()
        with open(self.t.config, "a") as f:
            f.write("this line is broken\n")
        self.t.reload()
        self.assertTrue(self.t.proc.running(), "a bad config on SIGHUP killed trackerd")
        r = self.t.announce(ih("badreload"), st.peer_id(1), 1, left=0)
        self.assertEqual(r[b"interval"], 1111, "old settings must stay after a failed reload")
        self.assertRegex(self.t.log(), re.escape(self.t.config) + r":\d+")


class Threads(st.TestCase):
    def test_four_threads_agree(self):
        t = st.Trackerd(threads=4, udp_hosts=("127.0.0.1",))
        hashes = [ih("thr-%d" % i) for i in range(8)]
        # Each of 8 swarms gets 3 HTTP peers and 2 UDP peers.
        for i, h in enumerate(hashes):
            for n in range(3):
                t.announce(h, st.peer_id(n), 7000 + n, left=n, source="127.0.1.%d" % (n + 1))
            for n in range(3, 5):
                with st.UdpTracker(*t.udp, bind="127.0.1.%d" % (n + 1)) as u:
                    u.connect()
                    u.announce(h, st.peer_id(n), 7000 + n, left=n)
        got = t.scrape(hashes)
        for h in hashes:
            self.assertEqual(got[h], (1, 0, 4))
        t.stop()


class Stats(st.TestCase):
    def test_stats_html_and_json(self):
        t = st.Trackerd()
        for i in range(3):
            for n in range(i + 1):
                t.announce(ih("stats-%d" % i), st.peer_id(n), 6000 + n, left=0 if n == 0 else 1,
                           source="127.0.0.%d" % (70 + n))
        r = t.get("/stats")
        self.assertEqual(r.status, 200)
        self.assertIn("text/html", r.headers.get("content-type", ""))
        self.assertRegex(r.body.decode(), r"(?i)<html")
        r = t.get("/stats?format=json")
        self.assertEqual(r.status, 200)
        self.assertIn("json", r.headers.get("content-type", ""))
        j = json.loads(r.body.decode())
        self.assertIsInstance(j, dict)
        self.assertEqual((j["swarms"], j["seeders"], j["leechers"], j["peers"]), (3, 3, 3, 6), j)
        self.assertEqual(j["requests"]["http_announce"], 6, j)
        self.assertEqual(j["catalog_entries"], 0)
        # The HTML page shows the same numbers.
        html = t.get("/stats").body.decode()
        self.assertRegex(html, r'id="swarms">3<')
        self.assertRegex(html, r'id="peers">6<')
        t.stop()


if __name__ == "__main__":
    st.main()
