"""Every unit in systemd/ passes systemd-analyze verify, and the units that
start our daemons start them the way the README says (Type=notify, a config
from /etc/sta, a reload through SIGHUP)."""

import glob
import os
import re
import shutil

import statest as st


class Units(st.TestCase):
    def units(self):
        found = sorted(glob.glob(os.path.join(st.source_dir(), "systemd", "*.service")) +
                       glob.glob(os.path.join(st.source_dir(), "systemd", "*.socket")))
        self.assertTrue(found, "no unit files in systemd/")
        return found

    def test_verify(self):
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            st.skip("systemd-analyze is not installed")
        d = st.tempdir()
        copies = []
        for unit in self.units():
            text = open(unit).read()
            # Point ExecStart at the built binaries: verify checks they exist.
            for prog in ("trackerd", "stad"):
                path = os.path.join(st.build_dir(), prog, prog)
                if os.path.exists(path):
                    text = text.replace("/usr/sbin/" + prog, path)
            copy = os.path.join(d, os.path.basename(unit))
            with open(copy, "w") as f:
                f.write(text)
            copies.append(copy)
        r = st.run([analyze, "verify"] + copies, check=False, timeout=60)
        self.assertEqual(r.returncode, 0, "systemd-analyze verify failed:\n%s%s"
                         % (r.out, r.err))

    def test_daemons_are_notify_services_with_reload(self):
        for unit in self.units():
            if not unit.endswith(".service"):
                continue
            text = open(unit).read()
            self.assertRegex(text, r"(?m)^Type=notify$", unit)
            self.assertRegex(text, r"(?m)^ExecStart=/usr/sbin/\S+ --config /etc/sta/\S+\.conf", unit)
            self.assertRegex(text, r"(?m)^ExecReload=/bin/kill -HUP \$MAINPID$", unit)
            self.assertRegex(text, r"(?m)^NoNewPrivileges=yes$", unit)
            self.assertRegex(text, r"(?m)^ProtectSystem=strict$", unit)

    def test_sysusers_creates_sta(self):
        """The sysusers.d file installed beside stad.service creates the
        user and group it runs as (tried in a scratch root)."""
        sysusers = shutil.which("systemd-sysusers")
        if sysusers is None:
            st.skip("systemd-sysusers is not installed")
        root = st.tempdir()
        os.makedirs(os.path.join(root, "etc"))
        conf = os.path.join(st.source_dir(), "systemd", "sta.sysusers")
        st.run([sysusers, "--root=" + root, conf], timeout=60)
        with open(os.path.join(st.source_dir(), "systemd", "stad.service")) as f:
            unit = f.read()
        user = re.search(r"^User=(\S+)$", unit, re.M).group(1)
        group = re.search(r"^Group=(\S+)$", unit, re.M).group(1)
        with open(os.path.join(root, "etc", "passwd")) as f:
            self.assertIn(user, [l.split(":")[0] for l in f], "no user %s" % user)
        with open(os.path.join(root, "etc", "group")) as f:
            self.assertIn(group, [l.split(":")[0] for l in f], "no group %s" % group)


if __name__ == "__main__":
    st.main()
