#!/usr/bin/env python3
"""scripts/format (run by test/unit/test_sweep.cpp under ctest, or directly:
`python3 test/scripts/test_format.py`) in a scratch git repository holding the project's
scripts/format and .clang-format: only the lines changed since BASE are checked and
reformatted; an untouched badly formatted line stays as it is. Skips, saying why, when
clang-format is not installed (scripts/format would install it; this test does not)."""
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OLD_LINE = "int  untouched( int x ){return x;}"  # off-style, present on the base branch
BASE_TEXT = OLD_LINE + "\n\nint kept(int y) { return y; }\n"
NEW_LINE = "int added( const  int &z ){ return z*2; }"
FORMATTED = "int added(const int& z) { return z * 2; }"  # the style .clang-format states


class FormatChangedLines(unittest.TestCase):
    def setUp(self):
        if not (shutil.which("clang-format") and shutil.which("git-clang-format")):
            self.skipTest("SKIPPED: clang-format not installed (Debian package clang-format)")
        self.repo = tempfile.mkdtemp(prefix="llmsim_format_")
        os.makedirs(os.path.join(self.repo, "scripts"))
        shutil.copy(os.path.join(ROOT, "scripts", "format"), os.path.join(self.repo, "scripts", "format"))
        shutil.copy(os.path.join(ROOT, ".clang-format"), os.path.join(self.repo, ".clang-format"))
        self.write("a.cpp", BASE_TEXT)
        self.write("notes.txt", "not C++ ( x ){}\n")
        self.git("init", "-q", "-b", "main")
        self.git("add", ".")
        self.git("commit", "-qm", "base")
        self.git("checkout", "-qb", "topic")

    def tearDown(self):
        shutil.rmtree(self.repo, ignore_errors=True)

    def write(self, name, text):
        with open(os.path.join(self.repo, name), "w") as f:
            f.write(text)

    def read(self, name):
        with open(os.path.join(self.repo, name)) as f:
            return f.read()

    def git(self, *args):
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                   GIT_COMMITTER_EMAIL="t@t")
        subprocess.run(["git", *args], cwd=self.repo, env=env, check=True, capture_output=True)

    def format(self, *args):
        return subprocess.run([os.path.join(self.repo, "scripts", "format"), *args], cwd=self.repo,
                              capture_output=True, text=True)

    def test_check_then_format_changed_lines_only(self):
        r = self.format("--check", "main")
        self.assertEqual(r.returncode, 0, r.stderr)  # nothing changed: the old line is not ours
        self.write("a.cpp", BASE_TEXT + NEW_LINE + "\n")
        self.write("notes.txt", "still not C++ ( x ){}\n")
        self.git("commit", "-qam", "topic")
        r = self.format("--check", "main")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("-" + NEW_LINE, r.stdout)
        self.assertIn("+" + FORMATTED, r.stdout)
        self.assertNotIn("-" + OLD_LINE, r.stdout)  # context at most, never reformatted
        self.assertNotIn("notes.txt", r.stdout)
        r = self.format("main")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read("a.cpp"), BASE_TEXT + FORMATTED + "\n")  # the old line as it was
        r = self.format("--check", "main")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_bad_base(self):
        r = self.format("--check", "no-such-branch")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no-such-branch", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
