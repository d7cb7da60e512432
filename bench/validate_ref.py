#!/usr/bin/env python3
# The reference for `hactl validate` speed (issue 12 #5): a seed-style memory
# validator (the user's validate_memory.py: non-empty, UTF-8, JSON and YAML
# parse, Markdown front matter parses) in Python with libyaml (CSafeLoader).
#   python3 bench/validate_ref.py DIR   -> exit 0 valid, 1 invalid
import json, os, re, sys
import yaml
Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
FM = re.compile(r'^---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*$', re.S | re.M)

def check(path):
    with open(path, 'rb') as f:
        data = f.read()
    text = data.decode('utf-8-sig')
    if not text.strip():
        return 'empty'
    low = path.lower()
    if low.endswith('.json'):
        json.loads(text)
    elif low.endswith(('.yaml', '.yml')):
        list(yaml.load_all(text, Loader=Loader))
    elif low.endswith(('.md', '.markdown')) and text.startswith('---'):
        m = FM.match(text)
        if not m:
            return 'front matter not closed'
        yaml.load(m.group(1), Loader=Loader)
    return None

bad = 0
n = 0
for root, dirs, files in os.walk(sys.argv[1]):
    for name in files:
        p = os.path.join(root, name)
        n += 1
        try:
            why = check(p)
        except Exception as e:  # noqa: BLE001 - any parse error is a finding
            why = str(e).splitlines()[0]
        if why:
            bad += 1
            print(f'{p}: {why}')
print(f'{n} files, {bad} invalid')
sys.exit(1 if bad else 0)
