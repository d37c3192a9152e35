"""The docs say what the code does: limits quoted from the code, one date
on every man page, the install paths the build really uses."""

import glob
import os
import re

import statest as st


def src(*parts):
    return os.path.join(st.source_dir(), *parts)


def read(*parts):
    with open(src(*parts)) as f:
        return f.read()


class Docs(st.TestCase):
    def test_scrape_limit(self):
        m = re.search(r"#define TRACKER_SCRAPE_MAX (\d+)", read("common", "tracker_proto.h"))
        self.assertIsNotNone(m, "TRACKER_SCRAPE_MAX not found")
        limit = m.group(1)
        for doc, pattern in (("README.md", r"up to (\d+) info-hashes"),
                             ("man/trackerd.8", r"[Cc]ounts for up to (\d+) info-hashes")):
            found = re.findall(pattern, read(*doc.split("/")))
            self.assertTrue(found, "%s does not state the scrape limit" % doc)
            self.assertEqual(set(found), {limit}, "%s: scrape limit %s, code %s"
                             % (doc, found, limit))

    def test_man_page_dates_agree(self):
        dates = {}
        for page in glob.glob(src("man", "*.[0-9]")):
            with open(page) as f:
                m = re.search(r'^\.TH \S+ \d+ "([^"]*)"', f.read(), re.M)
            self.assertIsNotNone(m, "%s has no .TH line with a date" % page)
            dates[os.path.basename(page)] = m.group(1)
        self.assertGreaterEqual(len(dates), 5)
        self.assertEqual(len(set(dates.values())), 1, "man page dates differ: %r" % dates)

    def test_readme_unit_path(self):
        readme = read("README.md")
        self.assertIn("/usr/lib/systemd/system", readme)
        self.assertNotRegex(readme, r"(?<!/usr)/lib/systemd/system",
                            "README names /lib/systemd/system; units go to /usr/lib/...")


if __name__ == "__main__":
    st.main()
