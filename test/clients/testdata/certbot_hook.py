#!/usr/bin/env python3
"""A certbot --manual-auth-hook in the style of acme-dns-auth.py, using
python-requests: register with no body, then update each value given.

Usage: certbot_hook.py API_URL TXT... ; prints the account as JSON on success.
Exits non-zero on any status other than exactly 201 (register) / 200 (update).
"""
import json
import sys

import requests


def fail(what, res):
    # Like the real hooks, print the error body as parsed JSON: a body that
    # is not JSON raises here.
    print("%s: HTTP %d %s" % (what, res.status_code, json.dumps(res.json())), file=sys.stderr)
    sys.exit(1)


def main():
    api, values = sys.argv[1], sys.argv[2:]

    res = requests.post(api + "/register", timeout=10)
    if res.status_code != 201:
        fail("register", res)
    account = res.json()

    headers = {"X-Api-User": account["username"], "X-Api-Key": account["password"]}
    for txt in values:
        res = requests.post(api + "/update", headers=headers, timeout=10,
                            json={"subdomain": account["subdomain"], "txt": txt})
        if res.status_code != 200:
            fail("update", res)
        if res.json() != {"txt": txt}:
            print("update: unexpected reply %r" % res.text, file=sys.stderr)
            sys.exit(1)

    # A value that is not a DNS-01 digest: 400 with a JSON error body.
    res = requests.post(api + "/update", headers=headers, timeout=10,
                        json={"subdomain": account["subdomain"], "txt": "not-a-digest"})
    if res.status_code != 400 or res.json() != {"error": "bad_txt"}:
        print("bad txt: HTTP %d %r, want 400 {\"error\": \"bad_txt\"}" % (res.status_code, res.text), file=sys.stderr)
        sys.exit(1)

    print(json.dumps(account))


if __name__ == "__main__":
    main()
