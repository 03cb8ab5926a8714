"""Asking the decision server from Python (docs/bindings.md).

Usage: python3 client.py SOCKET — with the server started as
    warden serve --socket SOCKET --policies examples/documents
"""
import sys

import warden

DOCUMENT = {"type": "document", "id": "d-1", "tenant": "acme", "owner": "olga",
            "department": "hr", "sensitivity": "public", "shared_with": [],
            "shared_departments": [], "legal_hold": False, "title": "Holiday calendar"}
PAT = {"id": "pat", "tenant": "acme", "department": "sales", "auth": {"kind": "token"}}


def main():
    with warden.Client(sys.argv[1], timeout=5.0) as client:
        if not client.health():
            sys.exit("the server is not answering")
        # Warden's own request shape: POST /v1/decide.
        decision = client.decide({"subject": PAT, "action": "read", "resource": DOCUMENT})
        print(decision["decision"], [rule["name"] for rule in decision["rules"]])

        # A request that cannot be decided is still answered: deny, with the error.
        decision = client.decide('{"subject": {"id": "pat"}}')
        print(decision["decision"], decision["error"]["code"], decision["error"]["message"])

        # Several requests in one round trip: POST /v1/decide/batch.
        decisions = client.decide_batch([
            {"subject": PAT, "action": "read", "resource": DOCUMENT},
            {"subject": PAT, "action": "delete", "resource": DOCUMENT},
        ])
        print([d["decision"] for d in decisions])

        # OpenID AuthZEN 1.0: POST /access/v1/evaluation.
        answer = client.evaluation({
            "subject": {"type": "user", "id": "pat", "properties": {
                "tenant": "acme", "department": "sales", "auth": {"kind": "token"}}},
            "action": {"name": "read"},
            "resource": {"type": "document", "id": "d-1", "properties": {
                k: v for k, v in DOCUMENT.items() if k not in ("type", "id")}},
        })
        print(answer["decision"])

        # Other error statuses raise warden.ServerError.
        try:
            client.evaluation({"action": {"name": "read"}})
        except warden.ServerError as error:
            print(error.status, error.code)


if __name__ == "__main__":
    main()
