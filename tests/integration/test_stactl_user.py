"""stactl against a real stad, as a user and a script see it: what the
verbs say they changed, errors as JSON on stdout, status with where the data
is, its ratio, its error and whether stad is closed, a download with no
seeder known, a missing .torrent file, share errors, one control log line
per connection, and the FLAGS letters documented in stactl(1)."""

import glob
import json
import os
import re
import signal
import subprocess
import time

import statest as st

SIZE = 300000


def lines_until(proc, seconds):
    """stdout lines of proc over seconds, then SIGINT; (lines, rc, stderr)."""
    time.sleep(st.slack(seconds))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=st.slack(10))
    return out.decode().splitlines(), proc.returncode, err.decode()


class Orphan(st.TestCase):
    """A download nobody seeds: the tracker knows no seeder."""

    def setUp(self):
        self.tracker = st.Trackerd()
        self.down = st.Stad(self.tracker.url("/announce"), name="down")
        d = st.tempdir()
        data = os.path.join(d, "orphan.bin")
        st.make_file(data, SIZE)
        self.tpath = st.make_torrent(data, announce=self.tracker.url("/announce")).write(
            os.path.join(d, "orphan.bin.torrent"))
        r = self.down.ctl("request", "--detach", self.tpath)
        self.assertEqual(r.rc, 0, r)
        self.down.wait_torrent("orphan.bin", lambda t: t.get("tracker", "").startswith("ok"),
                               10, "announced")

    def watch(self, *args):
        return subprocess.Popen([st.sta_binary("stactl"), "--socket", self.down.socket] +
                                list(args) + ["watch", "orphan.bin"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)

    def test_no_seeders_known_in_the_bar(self):
        out, rc, err = lines_until(self.watch(), 1.5)
        self.assertEqual(rc, 130, err)
        self.assertTrue(out, err)
        self.assertIn("no seeders known; waiting", out[0])
        self.assertNotIn("ETA ?", out[0])
        self.assertNotIn("0 peers", out[0])

    def test_json_watch_prints_each_event_once(self):
        # stad's events come every 0.5 s; a stalled download changes nothing.
        out, rc, err = lines_until(self.watch("--json"), 2.5)
        self.assertEqual(rc, 130, err)
        lines = [json.loads(l) for l in out]
        events = [e for e in lines if "error" not in e]
        self.assertTrue(events, out)
        for a, b in zip(events, events[1:]):
            self.assertNotEqual(a, b, "the same event printed twice:\n%s" % "\n".join(out))
        self.assertLessEqual(len(events), 2, out)
        # The last line is the interruption, as JSON on stdout too.
        self.assertEqual((lines[-1].get("code"), lines[-1].get("exit")), ("interrupted", 130))
        self.assertEqual(err, "")


class Verbs(st.TestCase):
    def setUp(self):
        self.tracker = st.Trackerd()
        self.seed = st.Stad(self.tracker.url("/announce"), name="seed",
                            share={"one.bin": SIZE})
        self.seed.wait_seeding("one.bin")

    def json(self, stad, *args, rc=0):
        r = stad.ctl(*args, json_out=True)
        self.assertEqual(r.rc, rc, r)
        self.assertEqual(len(r.jsons), 1, r)
        self.assertEqual(r.err, "", r)
        return r.json

    def test_verbs_say_what_they_changed(self):
        down = st.Stad(self.tracker.url("/announce"), name="down")
        self.assertEqual(down.ctl("request", "one.bin").rc, 0)
        again = down.ctl("request", "--detach", "one.bin", json_out=True)
        self.assertEqual(again.jsons[0]["changed"], 0, again)
        self.assertEqual(again.jsons[0]["torrent"]["state"], "seeding", again)

        j = self.json(down, "pause", "one.bin")
        self.assertEqual(j["changed"], 1)
        self.assertEqual((j["torrent"]["name"], j["torrent"]["state"]), ("one.bin", "paused"))
        self.assertEqual(self.json(down, "pause", "one.bin")["changed"], 0)
        r = down.ctl("pause", "one.bin")
        self.assertEqual(r.out, "one.bin was paused already\n")
        j = self.json(down, "resume", "one.bin")
        self.assertEqual(j["changed"], 1)
        self.assertNotEqual(j["torrent"]["state"], "paused")
        self.assertEqual(self.json(down, "resume", "one.bin")["changed"], 0)

        j = self.json(down, "close")
        self.assertEqual(j["changed"], 1)
        self.assertEqual([t["name"] for t in j["torrents"]], ["one.bin"])
        self.assertEqual(j["torrents"][0]["state"], "closed")
        j = self.json(down, "close")
        self.assertEqual((j["changed"], j["torrents"]), (0, []))
        self.assertIn("closed already", down.ctl("close").out)

        j = self.json(down, "remove", "one.bin")
        self.assertEqual(j["changed"], 1)
        self.assertEqual(j["torrent"]["path"], os.path.join(down.download_dir, "one.bin"))
        self.assertEqual(down.status(), [])

    def test_errors_are_json_on_stdout(self):
        cases = [
            (["pause", "nothing"], 1, "not_found", 'no torrent matches "nothing"'),
            (["pause"], 2, "usage", "missing argument"),
            (["frobnicate"], 2, "usage", "unknown command"),
            (["share", "/no/such/path"], 1, "not_found", "no such file"),
            (["request", "./missing.torrent"], 1, "not_found", "no such file"),
        ]
        for args, rc, code, text in cases:
            with self.subTest(args=args):
                j = self.json(self.seed, *args, rc=rc)
                self.assertEqual((j["code"], j["exit"]), (code, rc), j)
                self.assertIn(text, j["error"])
        r = st.stactl(os.path.join(st.tempdir(), "absent.sock"), "status", json_out=True)
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(r.err, "")
        self.assertEqual((r.json["code"], r.json["exit"]), ("unreachable", 3))
        self.assertIn("is stad running?", r.json["error"])
        # --json before the verb, and an unknown option of stactl's own.
        r = st.stactl(self.seed.socket, "--bogus", json_out=True)
        self.assertEqual((r.rc, r.err, r.json["code"]), (2, "", "usage"), r)

    def test_status_shows_path_ratio_error_and_closed(self):
        down = st.Stad(self.tracker.url("/announce"), name="down")
        self.assertEqual(down.ctl("request", "one.bin").rc, 0)
        # A download that cannot open its file: a directory is in the way.
        d = st.tempdir()
        data = os.path.join(d, "blocked.bin")
        st.make_file(data, 1000)
        os.makedirs(os.path.join(down.download_dir, "blocked.bin"))
        tpath = st.make_torrent(data, announce=self.tracker.url("/announce")).write(
            os.path.join(d, "blocked.torrent"))
        self.assertEqual(down.ctl("request", "--detach", tpath).rc, 0)
        err = down.wait_torrent("blocked.bin", lambda t: t["state"] == "error", 10,
                                "in error")["error"]
        # The seeder uploaded the whole file once: ratio 1.00.
        st.wait_until(lambda: self.seed.torrent("one.bin")["uploaded"] >= SIZE, st.slack(10),
                      "the upload counted")
        r = self.seed.ctl("status")
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"(?m)^NAME .* RATIO ")
        self.assertRegex(r.out, r"(?m)^one\.bin +seeding .* 1\.\d\d ")
        self.assertRegex(r.out, r"(?m)^one\.bin +%s$"
                         % re.escape(os.path.join(self.seed.share_dir, "one.bin")))
        r = down.ctl("status")
        self.assertRegex(r.out, r"(?m)^blocked\.bin +error ")
        self.assertRegex(r.out, r"(?m)^ +error: %s$" % re.escape(err))
        self.assertRegex(r.out, r"(?m)^one\.bin +%s$"
                         % re.escape(os.path.join(down.download_dir, "one.bin")))
        j = down.ctl("status", json_out=True).json
        self.assertEqual(j["closed"], 0)

        self.assertEqual(self.seed.ctl("close").rc, 0)
        r = self.seed.ctl("status")
        self.assertTrue(r.out.startswith("stad is closed"), r.out)
        self.assertRegex(r.out, r"(?m)^one\.bin +closed ")
        self.assertNotIn("seeding", r.out)
        self.assertEqual(self.seed.ctl("status", json_out=True).json["closed"], 1)
        self.assertEqual(self.seed.ctl("start").rc, 0)
        self.assertFalse(self.seed.ctl("status").out.startswith("stad is closed"))
        self.assertEqual(self.seed.ctl("status", json_out=True).json["closed"], 0)

    def test_request_of_a_missing_torrent_file(self):
        for path in ("./missing.torrent", "missing.torrent", "sub/dir/missing"):
            with self.subTest(path=path):
                r = self.seed.ctl("request", path)
                self.assertEqual(r.rc, 1, r)
                self.assertEqual(r.err, "stactl: %s: no such file\n" % path)

    def test_share_error_names_the_path_once(self):
        fifo = os.path.join(st.tempdir(), "a-fifo")
        os.mkfifo(fifo)
        r = self.seed.ctl("share", fifo)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.err.count(fifo), 1, r.err)
        self.assertIn("not a regular file or directory", r.err)

    def test_one_debug_line_per_control_connection(self):
        log = self.seed.log
        mark = len(log())
        for _ in range(3):
            self.assertEqual(self.seed.ctl("status").rc, 0)
        lines = [l for l in log()[mark:].splitlines() if "control client" in l]
        self.assertEqual(len(lines), 3, lines)
        for l in lines:
            self.assertIn("debug:", l)
        # At info, none.
        self.seed.write_config(log_level="info")
        self.seed.proc.send_signal(signal.SIGHUP)
        st.wait_until(lambda: "configuration reloaded" in log(), st.slack(5), "the reload")
        mark = len(log())
        for _ in range(3):
            self.assertEqual(self.seed.ctl("status").rc, 0)
        self.assertNotIn("control client", log()[mark:])


class Docs(st.TestCase):
    def test_flags_letters_are_explained_in_the_man_page(self):
        """Every letter stad's peer_flags() can set has an entry in
        stactl(1)'s FLAGS section."""
        src = st.source_dir()
        letters = None
        for path in glob.glob(os.path.join(src, "stad", "**", "*.c"), recursive=True):
            with open(path) as f:
                m = re.search(r"\nvoid peer_flags\(.*?\n}\n", f.read(), re.S)
            if m:
                letters = re.findall(r"'(.)' }", m.group(0))
        self.assertTrue(letters, "peer_flags() not found under stad/")
        with open(os.path.join(src, "man", "stactl.1")) as f:
            man = f.read()
        m = re.search(r"\n\.SS Peer flags\n(.*?)\n\.S[HS] ", man, re.S)
        self.assertIsNotNone(m, "no 'Peer flags' section in stactl.1")
        explained = re.findall(r"(?m)^\.B (\S)$", m.group(1))
        self.assertEqual(sorted(explained), sorted(letters))


if __name__ == "__main__":
    st.main()
