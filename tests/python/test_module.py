"""Tests of the Python module `benchtop` (build/python): MNIST-1D arrays equal the files the
command line writes; experiments and their parameters; a sweep run from Python is stored, resumes,
and gives the command line's results bit for bit; runs and curves read back; clear errors.

Run by ctest (test `python_module`) with PYTHONPATH=build/python."""
import os
import subprocess
import tempfile
import unittest

import numpy as np

import benchtop

HERE = os.path.dirname(os.path.abspath(benchtop.__file__))
CLI = os.path.join(HERE, "..", "benchtop")
SWEEP = dict(num_samples=600, train_examples=200, batch=50, epochs=4, eval_every=2, width=[4, 9], seed="0..1")


class Mnist1d(unittest.TestCase):
    def test_arrays_equal_the_command_lines_files(self):
        d = benchtop.mnist1d(num_samples=400, seed=7)
        self.assertEqual(d["x"].shape, (320, 40))
        self.assertEqual(d["x"].dtype, np.float64)
        self.assertEqual(d["y"].dtype, np.int32)
        self.assertEqual(d["x_test"].shape, (80, 40))
        self.assertTrue(set(np.unique(d["y"])) <= set(range(10)))
        with tempfile.TemporaryDirectory() as t:
            subprocess.run([CLI, "data", "mnist1d", "num_samples=400", "seed=7", "--out", t], check=True,
                           stdout=subprocess.DEVNULL)
            x = np.fromfile(os.path.join(t, "x_train.f64"), dtype="<f8").reshape(-1, 40)
            y = np.fromfile(os.path.join(t, "y_test.u8"), dtype=np.uint8)
        np.testing.assert_array_equal(d["x"], x)
        np.testing.assert_array_equal(d["y_test"], y)
        self.assertFalse(np.array_equal(benchtop.mnist1d(num_samples=400, seed=8)["x"], d["x"]))

    def test_unknown_argument(self):
        with self.assertRaisesRegex(TypeError, "unknown argument 'colour'"):
            benchtop.mnist1d(colour=3)


class Experiments(unittest.TestCase):
    def test_list_and_describe(self):
        names = [e["name"] for e in benchtop.experiments()]
        self.assertIn("double-descent", names)
        self.assertIn("grokking", names)
        params = {p["name"]: p for p in benchtop.describe("double-descent")}
        self.assertIn("width", params)
        self.assertTrue(params["width"]["help"])
        with self.assertRaisesRegex(benchtop.UsageError, "unknown experiment"):
            benchtop.describe("no-such-experiment")


class RunAndRead(unittest.TestCase):
    def test_sweep_resumes_and_matches_the_command_line(self):
        with tempfile.TemporaryDirectory() as t:
            db = os.path.join(t, "py.db")
            r = benchtop.run("double-descent", db=db, jobs=2, figures=False, **SWEEP)
            self.assertEqual((r["total"], r["complete"], r["failed"]), (4, 4, 0))
            again = benchtop.run("double-descent", db=db, figures=False, **SWEEP)
            self.assertEqual((again["skipped"], again["complete"]), (4, 0))
            rows = benchtop.runs(db, "double-descent")
            self.assertEqual(len(rows), 4)
            self.assertEqual({r["config"]["width"] for r in rows}, {4, 9})
            self.assertEqual({r["state"] for r in rows}, {"complete"})
            cli_db = os.path.join(t, "cli.db")
            subprocess.run([CLI, "run", "double-descent", "num_samples=600", "train_examples=200", "batch=50",
                            "epochs=4", "eval_every=2", "width=4,9", "seed=0..1", "--db", cli_db, "--quiet",
                            "--no-figures"], check=True)
            by_key = {r["run_key"]: r["summaries"] for r in benchtop.runs(cli_db)}
            for row in rows:
                self.assertEqual(row["summaries"], by_key[row["run_key"]])  # bit for bit
            curves = benchtop.metrics(db, rows[0]["run_id"])
            steps, values = curves["test_error"]
            self.assertEqual(len(steps), len(values))
            self.assertGreater(len(steps), 1)
            self.assertTrue(np.all(np.diff(steps) > 0))
            self.assertTrue(np.all((values >= 0) & (values <= 1)))

    def test_bad_parameters_are_value_errors_naming_the_key(self):
        with tempfile.TemporaryDirectory() as t:
            db = os.path.join(t, "x.db")
            with self.assertRaisesRegex(ValueError, "widht"):
                benchtop.run("double-descent", db=db, widht=3)
            with self.assertRaisesRegex(ValueError, "width"):
                benchtop.run("double-descent", db=db, width=-1)
            self.assertFalse(os.path.exists(db), "nothing is written for a bad grid")
            with self.assertRaisesRegex(ValueError, "no results database"):
                benchtop.runs(os.path.join(t, "missing.db"))


if __name__ == "__main__":
    unittest.main()
