"""A small client for the Warden decision server (`warden serve --socket PATH`).

Pure Python (http.client over a Unix socket), one keep-alive connection per
Client, reopened when the server has closed it. A Client may be shared by
threads: requests on one Client are serialized; use one Client per thread for
parallel requests.
"""

import http.client
import json
import socket
import threading

from .errors import ServerError

__all__ = ["Client"]


class _UnixConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection over a Unix domain socket."""

    def __init__(self, socket_path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _encode(body):
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _parse(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


class Client:
    """Client(socket_path, timeout=5.0): the decision server at a Unix socket.

    decide(request) -> dict            POST /v1/decide
    decide_batch(requests) -> list     POST /v1/decide/batch
    evaluation(request) -> dict        POST /access/v1/evaluation (AuthZEN 1.0)
    evaluations(request) -> dict       POST /access/v1/evaluations (AuthZEN 1.0 batch)
    health() -> bool                   GET /health
    ready() -> bool                    GET /ready

    Error statuses raise warden.ServerError(status, code, message), except a
    400 from decide: a request the server cannot decide still has a decision
    (deny), returned with its "error" ({"code": "bad_request", "path", "message"}).
    Transport failures (no server, timeout) raise OSError.
    """

    def __init__(self, socket_path, timeout=5.0):
        self.socket_path = str(socket_path)
        self.timeout = timeout
        self._connection = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ decisions

    def decide(self, request):
        """Decides one request (a dict, or its JSON as str/bytes); returns the decision dict.

        A bad request (HTTP 400) returns the deny decision with an "error" key
        instead of raising: check `"error" in decision` to tell it apart.
        """
        status, body, data = self._call("POST", "/v1/decide", request)
        if status == 200 or (status == 400 and isinstance(body, dict) and "decision" in body):
            return body
        raise self._error(status, body, data)

    def decide_batch(self, requests):
        """Decides several requests in one round trip; returns their decisions in order."""
        status, body, data = self._call("POST", "/v1/decide/batch", {"requests": list(requests)})
        if status == 200 and isinstance(body, dict) and isinstance(body.get("decisions"), list):
            return body["decisions"]
        raise self._error(status, body, data)

    def evaluation(self, request):
        """An AuthZEN 1.0 access evaluation.

        request: {"subject": {"type", "id", "properties"}, "resource": {"type", "id",
        "properties"}, "action": {"name", "properties"}, "context": {...}}.
        Returns {"decision": bool, "context": {...}}.
        """
        status, body, data = self._call("POST", "/access/v1/evaluation", request)
        if status == 200 and isinstance(body, dict):
            return body
        raise self._error(status, body, data)

    def evaluations(self, request):
        """AuthZEN 1.0 batch evaluations: {"subject", "action", "resource", "context"}
        as defaults, "evaluations": [...], optional "options": {"evaluations_semantic"}.
        Returns {"evaluations": [{"decision": bool, "context": {...}}, ...]}.
        """
        status, body, data = self._call("POST", "/access/v1/evaluations", request)
        if status == 200 and isinstance(body, dict):
            return body
        raise self._error(status, body, data)

    def health(self):
        """True when the server answers GET /health with 200; False otherwise,
        including when it cannot be reached."""
        try:
            status, _, _ = self._call("GET", "/health", None)
        except (OSError, http.client.HTTPException):
            return False
        return status == 200

    def ready(self):
        """True when the server has policies loaded and is not shutting down
        (GET /ready answers 200); False otherwise, including when unreachable."""
        try:
            status, _, _ = self._call("GET", "/ready", None)
        except (OSError, http.client.HTTPException):
            return False
        return status == 200

    # ------------------------------------------------------------ connection

    def close(self):
        """Closes the connection (a later call reopens it)."""
        with self._lock:
            self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"warden.Client({self.socket_path!r})"

    def _close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _call(self, method, path, body):
        """Returns (status, parsed JSON body or None, raw body)."""
        payload = None if body is None else _encode(body)
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        with self._lock:
            for attempt in range(2):
                reused = self._connection is not None
                if not reused:
                    self._connection = _UnixConnection(self.socket_path, self.timeout)
                connection = self._connection
                try:
                    connection.request(method, path, body=payload, headers=headers)
                    response = connection.getresponse()
                    data = response.read()
                except (ConnectionError, http.client.BadStatusLine):
                    # A kept-alive connection the server has closed: retry once
                    # on a new one (decisions are idempotent).
                    self._close()
                    if reused and attempt == 0:
                        continue
                    raise
                except BaseException:
                    self._close()
                    raise
                if response.will_close:
                    self._close()
                return response.status, _parse(data), data
        raise AssertionError("unreachable")

    @staticmethod
    def _error(status, body, data):
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return ServerError(status, error.get("code"), error.get("message", ""))
        return ServerError(status, None, data.decode("utf-8", "replace"))
