"""Tests of warden.Engine (the compiled extension)."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import unittest

import warden

ROOT = pathlib.Path(os.environ.get("WARDEN_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
WARDEN = os.environ.get("WARDEN_BINARY", "warden")
# The warden CLI runs without the sanitizer runtime a sanitized tree preloads
# into Python (the CLI carries its own).
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}

DATA = {"sanctioned_countries": ["KP", "IR"], "blocked_networks": ["203.0.113.0/24"]}

PAYMENT = {
    "type": "payment",
    "id": "p-1",
    "amount": 120.00,
    "department": "ops",
    "created_by": "carl",
    "status": "pending",
    "beneficiary_country": "FR",
    "beneficiary_iban": "FR7630006000011234567890189",
}
# Permitted by read_own_department.
PERMIT = {
    "subject": {"id": "vera", "roles": ["payment_viewer"], "department": "ops"},
    "action": "read",
    "resource": PAYMENT,
}
# Denied by locked_account.
DENY = dict(PERMIT, context={"attempts": {"locked": True}})


def compile_bundle(example, directory):
    path = os.path.join(directory, f"{example}.wdnb")
    subprocess.run([WARDEN, "compile", "-o", path, f"examples/{example}"], cwd=ROOT, check=True,
                   env=TOOL_ENV)
    return path


class EngineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory()
        cls.payments = compile_bundle("payments", cls._tmp.name)
        cls.documents = compile_bundle("documents", cls._tmp.name)
        cls.engine = warden.Engine(cls.payments, data=DATA)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_permit(self):
        decision = self.engine.decide(PERMIT)
        self.assertEqual(decision["decision"], "permit")
        self.assertEqual([r["name"] for r in decision["rules"]], ["read_own_department"])
        rule = decision["rules"][0]
        self.assertEqual(rule["policy"], "acme.payments.payment_access")
        self.assertTrue(rule["file"].endswith("payments.warden"))
        self.assertGreater(rule["line"], 0)
        for key in ("challenge", "reasons", "obligations", "advice", "errors", "risk", "limits"):
            self.assertIn(key, decision)
        self.assertNotIn("error", decision)

    def test_deny(self):
        decision = self.engine.decide(DENY)
        self.assertEqual(decision["decision"], "deny")
        self.assertEqual([r["name"] for r in decision["rules"]], ["locked_account"])
        self.assertIn("the account is locked after repeated failed sign-ins", decision["reasons"])

    def test_decide_json(self):
        text = self.engine.decide_json(json.dumps(PERMIT))
        self.assertIsInstance(text, str)
        self.assertEqual(json.loads(text), self.engine.decide(PERMIT))
        self.assertEqual(json.loads(self.engine.decide_json(json.dumps(DENY).encode()))["decision"],
                         "deny")

    def test_bad_request_is_a_deny_with_an_error(self):
        decision = json.loads(self.engine.decide_json('{"subject": {"id": '))
        self.assertEqual(decision["decision"], "deny")
        self.assertEqual(decision["error"]["code"], "bad_request")
        self.assertIn("malformed JSON", decision["error"]["message"])
        decision = self.engine.decide({"subject": {"id": "vera"}})  # no action
        self.assertEqual(decision["decision"], "deny")
        self.assertEqual(decision["error"]["code"], "bad_request")

    def test_non_json_values_raise(self):
        with self.assertRaises(TypeError):
            self.engine.decide({"subject": {"id": object()}})
        with self.assertRaises(ValueError):
            self.engine.decide(dict(PERMIT, context={"score": float("nan")}))
        with self.assertRaises(TypeError):
            self.engine.decide_json(42)

    def test_unicode_round_trips(self):
        request = dict(PERMIT, resource=dict(PAYMENT, id="p-ü-✓"))
        self.assertEqual(self.engine.decide(request)["decision"], "permit")

    def test_bundle_hash_and_from_bytes(self):
        digest = self.engine.bundle_hash
        self.assertRegex(digest, "^[0-9a-f]{64}$")
        data = pathlib.Path(self.payments).read_bytes()
        from_bytes = warden.Engine.from_bytes(data, data=DATA)
        self.assertEqual(from_bytes.bundle_hash, digest)
        self.assertEqual(from_bytes.decide(PERMIT)["decision"], "permit")
        self.assertEqual(warden.Engine.from_bytes(bytearray(data), DATA).bundle_hash, digest)
        self.assertEqual(warden.Engine.from_bytes(memoryview(data), DATA).bundle_hash, digest)
        self.assertIn(digest[:12], repr(self.engine))

    def test_path_like_and_data_forms(self):
        engine = warden.Engine(pathlib.Path(self.payments), data=json.dumps(DATA))
        self.assertEqual(engine.decide(PERMIT)["decision"], "permit")
        # Sets and tuples are accepted for set-typed data.
        engine = warden.Engine(self.payments, data={"sanctioned_countries": {"KP", "IR"},
                                                    "blocked_networks": ("203.0.113.0/24",)})
        self.assertEqual(engine.decide(PERMIT)["decision"], "permit")
        sanctioned = dict(PERMIT, action="create",
                          resource=dict(PAYMENT, beneficiary_country="KP", status="draft"),
                          subject={"id": "carl", "roles": ["payment_creator"], "department": "ops"})
        decision = engine.decide(sanctioned)
        self.assertEqual(decision["decision"], "deny")
        self.assertIn("sanctioned_beneficiary", [r["name"] for r in decision["rules"]])

    def test_load_errors(self):
        with self.assertRaisesRegex(warden.WardenError, "cannot open /nonexistent/x.wdnb"):
            warden.Engine("/nonexistent/x.wdnb")
        with self.assertRaisesRegex(warden.WardenError, "data `"):
            warden.Engine(self.payments)  # the policies declare data
        with self.assertRaisesRegex(warden.WardenError, "sanctioned_countries"):
            warden.Engine(self.payments, data=dict(DATA, sanctioned_countries=5))
        with self.assertRaisesRegex(warden.WardenError, "JSON object"):
            warden.Engine(self.payments, data="[1]")
        with self.assertRaises(TypeError):
            warden.Engine(self.payments, data=[1])
        data = bytearray(pathlib.Path(self.payments).read_bytes())
        data[len(data) // 2] ^= 0x5A
        with self.assertRaises(warden.WardenError) as caught:
            warden.Engine.from_bytes(bytes(data), data=DATA)
        self.assertTrue(str(caught.exception))
        with self.assertRaises(warden.WardenError):
            warden.Engine.from_bytes(b"not a bundle")
        self.assertTrue(issubclass(warden.ServerError, warden.WardenError))

    def test_threads_decide_concurrently(self):
        errors = []

        def work(index):
            for i in range(300):
                request, want = ((PERMIT, "permit"), (DENY, "deny"))[(i + index) % 2]
                got = self.engine.decide(request)["decision"]
                if got != want:
                    errors.append((request, got))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])

    def test_documents_and_version(self):
        engine = warden.Engine(self.documents)
        self.assertRegex(warden.__version__, r"^\d+\.\d+\.\d+$")
        self.assertNotEqual(engine.bundle_hash, self.engine.bundle_hash)

    def test_example_prints_what_the_docs_show(self):
        example = ROOT / "bindings/python/examples/decide.py"
        expected = (ROOT / "docs/examples/embed.expected").read_text()
        with open(ROOT / "docs/examples/requests.jsonl", "rb") as requests:
            result = subprocess.run([sys.executable, str(example), self.documents], cwd=ROOT,
                                    stdin=requests, capture_output=True, check=True)
        self.assertEqual(result.stdout.decode(), expected)


if __name__ == "__main__":
    unittest.main()
