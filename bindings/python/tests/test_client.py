"""Tests of warden.Client against the real server: `warden serve --socket SOCK
--policies examples/documents`, started in a temporary directory, stopped
with SIGTERM.

Run as a script, a run with every test skipped (the CLI has no `serve`
command) exits with 77, which ctest reports as skipped.
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import warden

ROOT = pathlib.Path(os.environ.get("WARDEN_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
WARDEN = os.environ.get("WARDEN_BINARY", "warden")
# The warden CLI runs without the sanitizer runtime a sanitized tree preloads
# into Python (the CLI carries its own).
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}

DOCUMENT = {"type": "document", "id": "d-1", "tenant": "acme", "owner": "olga",
            "department": "hr", "sensitivity": "public", "shared_with": [],
            "shared_departments": [], "legal_hold": False, "title": "Holiday calendar"}
PAT = {"id": "pat", "tenant": "acme", "department": "sales", "auth": {"kind": "token"}}
READ = {"subject": PAT, "action": "read", "resource": DOCUMENT}  # permit by read_public
DELETE = {"subject": PAT, "action": "delete", "resource": DOCUMENT}
ANONYMOUS = {"subject": {"id": "anonymous", "tenant": "acme", "department": "none"},
             "action": "read", "resource": DOCUMENT}  # not_applicable
NO_ACTION = '{"subject": {"id": "pat"}}'


def has_serve():
    result = subprocess.run([WARDEN, "--help"], capture_output=True, text=True, env=TOOL_ENV)
    return any(line.split()[:1] == ["serve"] for line in result.stdout.splitlines())


def essence(decision):
    """What the server and the in-process engine must agree on."""
    return (decision["decision"], decision["challenge"],
            [rule["name"] for rule in decision["rules"]], decision["reasons"],
            decision.get("error"))


class ClientTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        if not has_serve():
            raise unittest.SkipTest(f"{WARDEN} has no `serve` command")
        cls._tmp = tempfile.TemporaryDirectory(prefix="warden-client-")
        cls.socket = os.path.join(cls._tmp.name, "warden.sock")
        cls.log = open(os.path.join(cls._tmp.name, "server.log"), "wb")
        # Two request loops, whatever the machine: connections are spread over them.
        cls.server = subprocess.Popen(
            [WARDEN, "serve", "--socket", cls.socket, "--policies", "examples/documents",
             "--threads", "2"],
            cwd=ROOT, stdout=cls.log, stderr=subprocess.STDOUT, env=TOOL_ENV)
        cls.client = warden.Client(cls.socket, timeout=10.0)
        deadline = time.monotonic() + 30
        while not (os.path.exists(cls.socket) and cls.client.health() and cls.client.ready()):
            if cls.server.poll() is not None or time.monotonic() > deadline:
                cls.stop_server()
                raise AssertionError(f"the server did not start:\n{cls.server_log()}")
            time.sleep(0.05)
        # The oracle: the same policies, compiled and decided in-process.
        bundle = os.path.join(cls._tmp.name, "documents.wdnb")
        subprocess.run([WARDEN, "compile", "-o", bundle, "examples/documents"], cwd=ROOT,
                       check=True, env=TOOL_ENV)
        cls.engine = warden.Engine(bundle)

    @classmethod
    def server_log(cls):
        cls.log.flush()
        return pathlib.Path(cls.log.name).read_text(errors="replace")

    @classmethod
    def stop_server(cls):
        if cls.server is None or cls.server.poll() is not None:
            return cls.server.returncode if cls.server else None
        cls.server.send_signal(signal.SIGTERM)
        try:
            return cls.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            cls.server.wait()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        try:
            code = cls.stop_server()
        finally:
            log = cls.server_log()
            cls.log.close()
            cls._tmp.cleanup()
        if code != 0:
            raise AssertionError(f"the server exited with {code} on SIGTERM:\n{log}")

    def test_health_and_ready(self):
        self.assertTrue(self.client.health())
        self.assertTrue(self.client.ready())
        with warden.Client(os.path.join(self._tmp.name, "nothing.sock")) as nobody:
            self.assertFalse(nobody.health())
            self.assertFalse(nobody.ready())
            with self.assertRaises(OSError):
                nobody.decide(READ)

    def test_decide(self):
        decision = self.client.decide(READ)
        self.assertEqual(decision["decision"], "permit")
        self.assertEqual([rule["name"] for rule in decision["rules"]], ["read_public"])
        self.assertNotIn("error", decision)
        for request in (READ, DELETE, ANONYMOUS):
            self.assertEqual(essence(self.client.decide(request)),
                             essence(self.engine.decide(request)))
        self.assertEqual(self.client.decide(ANONYMOUS)["decision"], "not_applicable")

    def test_bad_request_returns_the_deny(self):
        decision = self.client.decide(NO_ACTION)
        self.assertEqual(decision["decision"], "deny")
        self.assertEqual(decision["error"]["code"], "bad_request")
        self.assertEqual(essence(decision), essence(json.loads(self.engine.decide_json(NO_ACTION))))
        decision = self.client.decide(b'{"subject": ')
        self.assertEqual(decision["decision"], "deny")
        self.assertIn("malformed JSON", decision["error"]["message"])

    def test_decide_batch(self):
        decisions = self.client.decide_batch([READ, DELETE, ANONYMOUS, {"subject": {}}])
        self.assertEqual(len(decisions), 4)
        for request, decision in zip([READ, DELETE, ANONYMOUS], decisions):
            self.assertEqual(essence(decision), essence(self.engine.decide(request)))
        self.assertEqual(decisions[3]["decision"], "deny")
        self.assertEqual(decisions[3]["error"]["code"], "bad_request")
        self.assertEqual(self.client.decide_batch([]), [])
        with self.assertRaises(warden.ServerError) as caught:
            self.client.decide_batch(["not an object"])
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.code, "malformed_batch")

    def test_authzen_evaluation(self):
        properties = {k: v for k, v in DOCUMENT.items() if k not in ("type", "id")}
        evaluation = {
            "subject": {"type": "user", "id": "pat",
                        "properties": {k: v for k, v in PAT.items() if k != "id"}},
            "action": {"name": "read"},
            "resource": {"type": "document", "id": "d-1", "properties": properties},
            "context": {},
        }
        answer = self.client.evaluation(evaluation)
        self.assertIs(answer["decision"], True)
        self.assertIsInstance(answer["context"], dict)
        answer = self.client.evaluation(dict(evaluation, action={"name": "delete"}))
        self.assertIs(answer["decision"], False)
        with self.assertRaises(warden.ServerError) as caught:
            self.client.evaluation({"action": {"name": "read"}})
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.code, "bad_request")
        self.assertTrue(caught.exception.message)

        answers = self.client.evaluations({
            "subject": evaluation["subject"], "resource": evaluation["resource"],
            "evaluations": [{"action": {"name": "read"}}, {"action": {"name": "delete"}}],
        })
        self.assertEqual([a["decision"] for a in answers["evaluations"]], [True, False])

    def test_keep_alive_and_reconnect(self):
        self.client.decide(READ)
        connection = self.client._connection
        sock = connection.sock if connection is not None else None
        for _ in range(20):
            self.assertEqual(self.client.decide(READ)["decision"], "permit")
        self.assertIs(self.client._connection, connection)
        self.assertIs(self.client._connection.sock, sock)
        # A kept-alive connection the server has closed is reopened, once
        # (decisions are idempotent): stand in a socket whose peer is gone.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        theirs.close()
        self.client._connection.sock.close()
        self.client._connection.sock = ours
        self.assertEqual(self.client.decide(READ)["decision"], "permit")
        self.assertIsNot(self.client._connection.sock, ours)
        self.client.close()
        self.assertIsNone(self.client._connection)
        self.assertEqual(self.client.decide(READ)["decision"], "permit")

    def test_threads(self):
        failures = []

        def work(index):
            with warden.Client(self.socket) as client:
                for i in range(100):
                    request, want = ((READ, "permit"), (ANONYMOUS, "not_applicable"))[(i + index) % 2]
                    got = client.decide(request)["decision"]
                    if got != want:
                        failures.append(got)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(failures, [])

    def test_example_prints_what_the_docs_show(self):
        example = ROOT / "bindings/python/examples/client.py"
        result = subprocess.run([sys.executable, str(example), self.socket], cwd=ROOT,
                                capture_output=True, check=True, timeout=60)
        expected = (ROOT / "bindings/python/examples/client.expected").read_text()
        self.assertEqual(result.stdout.decode(), expected)

if __name__ == "__main__":
    outcome = unittest.main(exit=False, verbosity=2).result
    if not outcome.wasSuccessful():
        sys.exit(1)
    skipped_all = outcome.testsRun == 0 or len(outcome.skipped) == outcome.testsRun
    sys.exit(77 if outcome.skipped and skipped_all else 0)
