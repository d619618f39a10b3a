#!/usr/bin/env python3
"""scripts/tokenize (run by test/unit/test_sweep.cpp under ctest, or directly:
`python3 test/scripts/test_tokenize.py`): the dependency-free token counts worked out by
hand, JSONL / CSV output, positioned errors, the synthetic generator's median and
reproducibility, and that the shipped sample trace is what its documented command makes."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZE = os.path.join(ROOT, "scripts", "tokenize")


def tokenize(*args):
    return subprocess.run([sys.executable, TOKENIZE, *args], capture_output=True, text=True)


class Tokenize(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmsim_tokenize_")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_bytes_and_words_approximations(self):
        corpus = self.write("c.txt", "abcd efgh\n\n" + "x" * 10 + "\n\n\n")
        r = tokenize(corpus)
        self.assertEqual(r.returncode, 0, r.stderr)
        # "abcd efgh": 9 bytes -> ceil(9 / 4) = 3; ten x's + newline: 11 bytes -> 3.
        self.assertEqual([json.loads(x) for x in r.stdout.splitlines()], [{"tokens": 3}, {"tokens": 3}])
        r = tokenize(corpus, "--approx", "words", "--format", "csv")
        # 2 words -> ceil(8 / 3) = 3; 1 word -> ceil(4 / 3) = 2.
        self.assertEqual(r.stdout.splitlines(), ["tokens", "3", "2"])

    def test_jsonl_input_and_its_errors(self):
        good = self.write("d.jsonl", json.dumps({"text": "one two three four"}) + "\n\n" + json.dumps({"body": "x", "text": "hi"}) + "\n")
        r = tokenize(good, "--input", "jsonl", "--approx", "words")
        self.assertEqual(r.stdout.splitlines(), ['{"tokens": 6}', '{"tokens": 2}'])
        bad = self.write("e.jsonl", json.dumps({"text": "ok"}) + "\n{not json\n")
        r = tokenize(bad, "--input", "jsonl")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"tokenize: error: {bad}:2:", r.stderr)
        r = tokenize(self.write("f.jsonl", json.dumps({"txt": "x"}) + "\n"), "--input", "jsonl")
        self.assertIn("expected an object with a string 'text'", r.stderr)

    def test_synthetic_median_and_reproducibility(self):
        a = tokenize("--synthetic", "4001", "--median", "700", "--sigma", "1.0", "--seed", "3")
        b = tokenize("--synthetic", "4001", "--median", "700", "--sigma", "1.0", "--seed", "3")
        self.assertEqual(a.stdout, b.stdout)
        lengths = [json.loads(x)["tokens"] for x in a.stdout.splitlines()]
        self.assertEqual(len(lengths), 4001)
        # The median of a lognormal is exp(mu) = 700; 4,001 draws land within a few percent.
        self.assertAlmostEqual(statistics.median(lengths) / 700, 1.0, delta=0.1)

    def test_shipped_sample_trace_is_what_its_command_makes(self):
        # workloads/traces/README.md documents this command for train-docs-lognormal.jsonl.
        r = tokenize("--synthetic", "8000", "--median", "1000", "--sigma", "1.2", "--max", "131072", "--seed", "1")
        with open(os.path.join(ROOT, "workloads", "traces", "train-docs-lognormal.jsonl"), encoding="utf-8") as f:
            self.assertEqual(r.stdout, f.read())


if __name__ == "__main__":
    unittest.main()
