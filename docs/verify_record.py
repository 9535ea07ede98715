#!/usr/bin/env python3
"""Verify a DSM Key Ceremony record without the app (the method of docs/record-format.md).

usage: python3 verify_record.py RECORD.json [ARTIFACTS_DIR]

Checks the plan digest, every entry's seq, prev, planDigest and hash (the chain), the final digest,
and, with ARTIFACTS_DIR, the SHA-256 and size of every file the record lists. Prints
"OK <entries> <final digest>" and exits 0, or "FAILED at entry N: reason" and exits 1.
Standard library only.
"""
import hashlib
import json
import os
import sys


def canonical(value):
    # Keys sorted, no whitespace, JSON string escaping: the form every hash is taken over.
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def fail(entry, reason):
    print(f'FAILED at entry {entry}: {reason}')
    sys.exit(1)


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2])
        sys.exit(2)
    with open(sys.argv[1], encoding='utf-8') as f:
        record = json.load(f)
    if record.get('format') != 'dsm-key-ceremony-record' or record.get('version') != 1:
        fail(0, 'not a ceremony record')
    plan_digest = sha256(canonical(record['plan']))
    if plan_digest != record['planDigest']:
        fail(0, 'planDigest is not the digest of the plan')
    prev = '0' * 64
    for i, entry in enumerate(record['entries'], start=1):
        if entry['seq'] != i:
            fail(i, f"seq is {entry['seq']}: an entry was removed, inserted or reordered")
        if entry['prev'] != prev:
            fail(i, 'prev is not the SHA-256 of the previous entry')
        if entry['planDigest'] != plan_digest:
            fail(i, 'planDigest is not the plan\'s')
        without_hash = {k: v for k, v in entry.items() if k != 'hash'}
        if sha256(canonical(without_hash)) != entry['hash']:
            fail(i, 'hash does not match the entry (it was altered)')
        prev = sha256(canonical(entry))
    last = record['entries'][-1]['hash']
    if record['finalDigest'] != last:
        fail(len(record['entries']), 'finalDigest is not the last entry\'s hash')
    if len(sys.argv) == 3:
        for a in record['artifacts']:
            path = os.path.join(sys.argv[2], os.path.basename(a['name']))
            with open(path, 'rb') as f:
                data = f.read()
            if hashlib.sha256(data).hexdigest() != a['sha256'] or len(data) != a['bytes']:
                fail(a['seq'], f"{a['name']} is not the file the log recorded")
    print(f"OK {len(record['entries'])} {last}")


main()
