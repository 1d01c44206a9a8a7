"""The original ModularNAS's registered names, as its registry holds them.

Run once against a checkout of CreeperLin/modnas (its `dev` branch has the latest registry) with
PyTorch installed (Debian: python3-torch, python3-yaml, python3-numpy):

    /usr/bin/python3 scripts/original-names/extract.py <modnas checkout> > scripts/original-names/names.json

Every module under modnas/ is imported (registration happens at import); what fails to import is
listed under "unimported" with its error, so the data says what it could not see. The registry's
register() is wrapped to keep each name as it was spelt (the registry itself keeps only the
lower-cased, '-'/'_'-free form), with its registry path (optim, estim, model, ...) and the module
that registered it.
"""
import importlib
import json
import logging
import os
import sys
import traceback

root = sys.argv[1]
sys.path.insert(0, root)
logging.disable(logging.CRITICAL)

from modnas.registry.registry import Registry  # noqa: E402

names = []
original_register = Registry.register


def recording_register(self, regclass, reg_path, reg_id):
    module = getattr(regclass, '__module__', None) or getattr(getattr(regclass, 'func', None), '__module__', None)
    names.append({'path': reg_path, 'id': reg_id, 'module': module})
    return original_register(self, regclass, reg_path, reg_id)


Registry.register = recording_register
# allow the same name twice (a module imported twice under two paths would raise otherwise)
sys.modules['modnas.registry.registry'].registry.allow_replace = True

import modnas  # noqa: E402

# every .py file: modnas/contrib has no __init__.py, so walking packages would not reach it
modules = []
for d, _, files in os.walk(os.path.join(root, 'modnas')):
    for f in files:
        if f.endswith('.py'):
            rel = os.path.relpath(os.path.join(d, f), root)[:-3].replace(os.sep, '.')
            modules.append(rel[:-len('.__init__')] if rel.endswith('.__init__') else rel)
unimported = {}
for name in sorted(modules):
    try:
        importlib.import_module(name)
    except Exception as e:  # noqa: BLE001 (listed in the output)
        unimported[name] = '{}: {}'.format(type(e).__name__, str(e).splitlines()[0] if str(e) else '')

seen = set()
unique = []
for n in names:
    key = (n['path'], n['id'].lower().replace('-', '').replace('_', '').replace(' ', ''))
    if key in seen:
        continue
    seen.add(key)
    unique.append(n)
unique.sort(key=lambda n: (n['path'], n['id'].lower()))
import torch  # noqa: E402
json.dump({
    'source': 'CreeperLin/modnas, dev branch',
    'torch': torch.__version__,
    'count': len(unique),
    'names': unique,
    'unimported': unimported,
}, sys.stdout, indent=1)
sys.stdout.write('\n')
