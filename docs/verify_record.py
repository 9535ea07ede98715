#!/usr/bin/env python3
"""Verify a DSM Key Ceremony record without the app (the method of docs/record-format.md).

usage: python3 verify_record.py RECORD.json [ARTIFACTS_DIR] [--videos VIDEOS_DIR]

Checks the plan digest, every entry's seq, prev, planDigest and hash (the chain), the final digest,
and, with ARTIFACTS_DIR, the SHA-256 and size of every file the record lists. Prints
"OK <entries> <final digest>", or "FAILED at entry N: reason" and exits 1.

Then the sealed addenda beside the record (<ceremony>[-REHEARSAL]-addendum-<n>.json, in the
record's folder), as `ceremony verify` checks them: each one's digest over its canonical JSON, that
the first extends the record's final digest and each next one the previous addendum's digest
(1, 2, 3 ... none missing), that it is this ceremony's and mode's, prepared after the seal, attested
by witnesses the plan names with their initials, and that every video names a camera of the plan
and every camera has a file or a note; with --videos, each video file is re-hashed. Prints
"ADDENDUM <n> <kind> <digest>" for each (and "VIDEO <name> OK" or "VIDEO <name> not found"), or
"FAILED at addendum N: CODE: reason" and exits 1. Not checked here: the digest words (a reading aid
spelt from the digest) and the wording rules on names and notes, which `ceremony verify` applies.
Standard library only.
"""
import datetime
import hashlib
import json
import os
import re
import sys


def canonical(value):
    # Keys sorted, no whitespace, JSON string escaping: the form every hash is taken over.
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def fail(entry, reason):
    print(f'FAILED at entry {entry}: {reason}')
    sys.exit(1)


def fail_addendum(n, code, reason):
    print(f'FAILED at addendum {n}: {code}: {reason}')
    sys.exit(1)


COMMON_KEYS = {'format', 'version', 'n', 'ceremonyId', 'mode', 'extends', 'preparedBy', 'preparedAt',
               'attestedBy', 'digest', 'digestWords', 'kind'}
KIND_KEYS = {'video': {'videos', 'camerasWithoutVideo', 'actionItems'}, 'archive': {'archive'}}
OPTIONAL_KEYS = {'watermark'}
HEX64 = re.compile(r'^[0-9a-f]{64}$')
ISO_UTC = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$')


def utc_ms(text):
    # ISO 8601 UTC with a Z, milliseconds optional (as the record and the addenda write times).
    if not isinstance(text, str) or not ISO_UTC.match(text):
        return None
    base, _, frac = text[:-1].partition('.')
    stamp = datetime.datetime.strptime(base, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    return int(stamp.timestamp() * 1000) + (int(frac.ljust(3, '0')) if frac else 0)


def initials_of(name):
    return ''.join(w[0].upper() for w in name.split())


def plan_witnesses(plan):
    people = plan.get('participants') or {}
    listed = list(people.get('witnesses') or []) + list((people.get('backups') or {}).get('witnesses') or [])
    out = {}
    for w in listed:
        if isinstance(w, str):
            out[w] = initials_of(w)
        elif isinstance(w, dict) and isinstance(w.get('name'), str):
            out[w['name']] = str(w.get('initials') or '').upper()
    return out


def addendum_shape(a, i):
    if not isinstance(a, dict) or a.get('format') != 'dsm-key-ceremony/addendum' or a.get('version') != 1:
        fail_addendum(i, 'ADDENDUM_FORMAT_INVALID', f'addendum given {i} is not an addendum of this format')
    kind = a.get('kind')
    if kind not in KIND_KEYS:
        fail_addendum(i, 'ADDENDUM_FORMAT_INVALID', f'addendum given {i} has no known kind')
    keys = set(a.keys())
    expected = COMMON_KEYS | KIND_KEYS[kind]
    if not expected <= keys or keys - expected - OPTIONAL_KEYS:
        fail_addendum(i, 'ADDENDUM_FORMAT_INVALID', f'addendum given {i} has fields {sorted((keys - OPTIONAL_KEYS) ^ expected)} other than its format\'s')
    if not isinstance(a['n'], int) or a['n'] < 1 or not HEX64.match(str(a['digest'])):
        fail_addendum(i, 'ADDENDUM_FORMAT_INVALID', f'addendum given {i}: n or digest is not of its format')


def check_witnesses(a, witnesses, required):
    attested = a['attestedBy']
    if required and not attested:
        fail_addendum(a['n'], 'ADDENDUM_NOT_ATTESTED', 'A witness named in the plan must attest the addendum (name and initials)')
    seen = set()
    for w in attested:
        name = w.get('name')
        if name not in witnesses:
            fail_addendum(a['n'], 'WITNESS_NOT_IN_PLAN', f'"{name}" is not one of the plan\'s witnesses')
        if str(w.get('initials', '')).strip().upper() != witnesses[name]:
            fail_addendum(a['n'], 'WITNESS_INITIALS_MISMATCH', f'The initials given for {name} are not the ones the plan records for them')
        if name in seen:
            fail_addendum(a['n'], 'WITNESS_LISTED_TWICE', f'{name} attests the addendum twice')
        seen.add(name)
    if attested and all(w.get('name') == a['preparedBy'] for w in attested):
        fail_addendum(a['n'], 'ADDENDUM_SELF_ATTESTED', f"{a['preparedBy']} prepared the addendum; another witness must attest it")


def check_videos(a, plan):
    cameras = [c['id'] for c in (plan.get('cameras') or []) if isinstance(c, dict) and isinstance(c.get('id'), str)]
    names = set()
    for v in a['videos']:
        if v.get('camera') not in cameras:
            fail_addendum(a['n'], 'CAMERA_NOT_IN_PLAN', f"{v.get('name')}: \"{v.get('camera')}\" is not a camera the plan names")
        name = v.get('name')
        if not isinstance(name, str) or name in ('', '.', '..') or re.search(r'[/\\\0]', name):
            fail_addendum(a['n'], 'VIDEO_NAME_INVALID', f'"{name}" is not a plain file name')
        if name in names:
            fail_addendum(a['n'], 'VIDEO_LISTED_TWICE', f'{name} is listed twice')
        names.add(name)
        if not v.get('bytes') or not HEX64.match(str(v.get('sha256'))):
            fail_addendum(a['n'], 'VIDEO_EMPTY', f'{name} is empty or has no SHA-256')
        start, stop = utc_ms(v.get('startedAt')), utc_ms(v.get('stoppedAt'))
        if start is None or stop is None:
            fail_addendum(a['n'], 'VIDEO_TIME_INVALID', f'{name}: its start or stop is not a UTC time')
        if stop <= start:
            fail_addendum(a['n'], 'VIDEO_TIMES_REVERSED', f'{name} stops before it starts')
    without = [w.get('camera') for w in a['camerasWithoutVideo']]
    for c in cameras:
        if not any(v.get('camera') == c for v in a['videos']) and c not in without:
            fail_addendum(a['n'], 'CAMERA_WITHOUT_VIDEO', f'The plan names the camera {c} but no file of it is listed, and no note says why')


def check_video_files(a, videos_dir):
    for v in a['videos']:
        path = os.path.join(videos_dir, v['name'])
        if not os.path.isfile(path):
            print(f"VIDEO {v['name']} not found")
            continue
        h = hashlib.sha256()
        size = 0
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                h.update(block)
                size += len(block)
        if h.hexdigest() != v['sha256'] or size != v['bytes']:
            fail_addendum(a['n'], 'VIDEO_DIGEST_MISMATCH', f"{v['name']} has SHA-256 {h.hexdigest()} ({size} bytes); the addendum recorded {v['sha256']} ({v['bytes']} bytes)")
        print(f"VIDEO {v['name']} OK")


def verify_addenda(record_path, record, videos_dir):
    plan = record['plan']
    prefix = f"{plan['id']}{'-REHEARSAL' if record['mode'] == 'rehearsal' else ''}-addendum-"
    folder = os.path.dirname(os.path.abspath(record_path))
    found = [n for n in os.listdir(folder) if n.startswith(prefix) and re.match(r'^[1-9]\d{0,3}\.json$', n[len(prefix):])]
    addenda = []
    for i, name in enumerate(sorted(found), start=1):
        try:
            with open(os.path.join(folder, name), encoding='utf-8') as f:
                addenda.append(json.load(f))
        except (OSError, ValueError) as err:
            fail_addendum(i, 'ADDENDUM_FORMAT_INVALID', f'{name} cannot be read as JSON ({err})')
        addendum_shape(addenda[-1], i)
    addenda.sort(key=lambda a: a['n'])
    witnesses = plan_witnesses(plan)
    sealed_at = utc_ms(record['entries'][-1]['ts'])
    previous = None
    for i, a in enumerate(addenda, start=1):
        n = a['n']
        if n > i:
            fail_addendum(n, 'ADDENDUM_MISSING', f'addendum {i} is missing: addendum {n} is the next one found')
        if n < i:
            fail_addendum(n, 'ADDENDUM_OUT_OF_ORDER', f'two addenda are numbered {n}')
        sealed = {k: v for k, v in a.items() if k not in ('digest', 'digestWords')}
        digest = sha256(canonical(sealed))
        if digest != a['digest']:
            fail_addendum(n, 'ADDENDUM_DIGEST_MISMATCH', f"addendum {n} has SHA-256 {digest} over its canonical JSON, but says {a['digest']}: it was changed after it was sealed")
        ext = a['extends'] if isinstance(a['extends'], dict) else {}
        if a['ceremonyId'] != plan['id'] or ext.get('recordFinalDigest') != record['finalDigest']:
            fail_addendum(n, 'ADDENDUM_NOT_FOR_THIS_RECORD', f"addendum {n} extends {a['ceremonyId']} with final digest {str(ext.get('recordFinalDigest'))[:16]}...; this record's is {record['finalDigest'][:16]}...")
        if ext.get('previousDigest') != previous:
            fail_addendum(n, 'ADDENDUM_CHAIN_BROKEN', f'addendum {n} does not continue from ' + ('the record alone (it names a previous addendum)' if previous is None else f'addendum {n - 1}'))
        if a['mode'] != record['mode'] or (a['mode'] == 'rehearsal') != (a.get('watermark') == 'REHEARSAL'):
            fail_addendum(n, 'ADDENDUM_MODE_MISMATCH', f"addendum {n} says {a['mode']}; the record is a {record['mode']} record")
        prepared = utc_ms(a['preparedAt'])
        if prepared is None or sealed_at is None or prepared < sealed_at:
            fail_addendum(n, 'ADDENDUM_TIME_INVALID', f"addendum {n} was prepared at {a['preparedAt']}, not after the record was sealed")
        check_witnesses(a, witnesses, a['kind'] == 'video')
        if a['kind'] == 'video':
            check_videos(a, plan)
        previous = a['digest']
        print(f"ADDENDUM {n} {a['kind']} {a['digest']}")
        if a['kind'] == 'video' and videos_dir is not None:
            check_video_files(a, videos_dir)


def main():
    args = sys.argv[1:]
    videos_dir = None
    if '--videos' in args:
        i = args.index('--videos')
        if i + 1 >= len(args):
            print(__doc__.strip().splitlines()[2])
            sys.exit(2)
        videos_dir = args[i + 1]
        del args[i:i + 2]
    if len(args) not in (1, 2):
        print(__doc__.strip().splitlines()[2])
        sys.exit(2)
    sys.argv[1:] = args
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
    verify_addenda(sys.argv[1], record, videos_dir)


main()
