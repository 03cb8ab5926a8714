"""Deciding requests in-process with the warden module (docs/bindings.md).

Usage: python3 decide.py BUNDLE  — reads one JSON request per line on stdin.
"""
import json
import sys

import warden


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: decide.py BUNDLE")
    try:
        engine = warden.Engine(sys.argv[1])  # loads and verifies the bundle
    except warden.WardenError as error:
        sys.exit(f"cannot load {sys.argv[1]}: {error}")
    for line in sys.stdin:
        # decide() takes a dict; decide_json() the request's JSON text as is.
        decision = json.loads(engine.decide_json(line))
        out = decision["decision"]
        if decision["challenge"]:
            out += " " + decision["challenge"]
        for rule in decision["rules"]:
            out += f" by {rule['name']} ({rule['file']}:{rule['line']})"
        if "error" in decision:  # not decodable: the decision is deny
            out += f" (bad request: {decision['error']['message']})"
        print(out)


if __name__ == "__main__":
    main()
