"""What an operator meets first: config mistakes get a sentence with the fix
and exit 1 (never libconfig's scanner killing the process), a missing
share_dir is reported and not silently created, and reinstalling keeps an
edited /etc/sta config."""

import os
import subprocess

import statest as st


def run_daemon(prog, *args):
    return st.run([st.sta_binary(prog)] + list(args), check=False, timeout=30)


class ConfigErrors(st.TestCase):
    def test_config_is_a_directory(self):
        d = st.tempdir()
        for prog in ("stad", "trackerd"):
            r = run_daemon(prog, "--config", d, "--check-config")
            self.assertEqual(r.returncode, 1, "%s: %s%s" % (prog, r.out, r.err))
            self.assertIn("is a directory, not a file", r.err, prog)
            self.assertNotIn("flex scanner", r.err, prog)

    def test_unsupported_tracker_scheme(self):
        d = st.tempdir()
        conf = os.path.join(d, "stad.conf")
        with open(conf, "w") as f:
            f.write('# stad\n\ntracker = "ftp://tracker.example/announce";\n')
        r = run_daemon("stad", "--config", conf, "--check-config")
        self.assertEqual(r.returncode, 1, r.err)
        self.assertIn("%s:3: setting 'tracker'" % conf, r.err)
        self.assertIn("only http:// and udp:// are supported", r.err)

    def test_missing_share_dir_is_reported_not_created(self):
        trk = st.Trackerd()
        s = st.Stad(trk.url("/announce"))
        s.stop()
        missing = os.path.join(s.dir, "shaer")
        s.write_config(share_dir=missing)
        s.start()
        st.wait_until(lambda: "share_dir %s does not exist" % missing in s.log(), 10,
                      "the missing share_dir warning")
        self.assertFalse(os.path.exists(missing), "stad created the mistyped share_dir")


class Install(st.TestCase):
    def test_reinstall_keeps_edited_config(self):
        dest = st.tempdir()
        env = dict(os.environ, DESTDIR=dest)

        def install():
            r = subprocess.run(["cmake", "--install", st.build_dir(), "--prefix", "/usr"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=120)
            out = r.stdout.decode(errors="replace")
            self.assertEqual(r.returncode, 0, out)
            return out

        install()
        etc = os.path.join(dest, "usr", "etc", "sta", "stad.conf")
        example = os.path.join(dest, "usr", "share", "doc", "sta", "examples", "stad.conf")
        self.assertTrue(os.path.exists(etc), "no %s after install" % etc)
        self.assertTrue(os.path.exists(example), "no example config %s" % example)
        with open(etc, "a") as f:
            f.write("listen_port = 7000;  # the operator's edit\n")
        out = install()
        with open(etc) as f:
            self.assertIn("the operator's edit", f.read(), "reinstall overwrote the config")
        self.assertIn("Keeping: %s" % etc, out)
        units = os.path.join(dest, "usr", "lib", "systemd", "system", "stad.service")
        self.assertTrue(os.path.exists(units), "stad.service not under /usr/lib/systemd/system")


if __name__ == "__main__":
    st.main()
