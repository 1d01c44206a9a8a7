#!/usr/bin/env python3
"""Writes the CIFAR-10 python-version fixtures of src/pickle.test.ts and src/cifar10.test.ts (Debian's
python3 + python3-numpy; CI has no numpy, so the output is committed). Run from this folder:
    python3 make-fixtures.py

fixtures/cifar-10-batches-py/  data_batch_1..5, test_batch, batches.meta as the official archive
    has them: Python 2's cPickle, protocol 2 (byte strings as BINSTRING/SHORT_BINSTRING, the array
    through numpy.core.multiarray._reconstruct), 2 records per batch.
fixtures/py3/  one batch as Python 3 writes it: protocol 2 (bytes through _codecs.encode) and the
    default protocol (BINBYTES, FRAME, MEMOIZE, STACK_GLOBAL).
Record i of batch k (global index g = 2 * (k - 1) + i; test_batch: g = 100 + i): label g % 10, and
pixel p of colour plane c = (g * 7 + 3 * p + c) % 256 (planes red, green, blue, rows first)."""
import io
import os
import pickle
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


class Py2Pickler(pickle._Pickler):
    """Pickles bytes and ASCII str as Python 2's cPickle wrote str, and numpy's new module names as the old ones."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        data = obj if isinstance(obj, bytes) else obj.encode('ascii')
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str

    def save_global(self, obj, name=None):
        module = getattr(obj, '__module__', None)
        name = name or obj.__qualname__
        if module == 'numpy._core.multiarray' or module == 'numpy.core.multiarray':
            module = 'numpy.core.multiarray'
        elif module and module.startswith('numpy'):
            module = 'numpy'
        self.write(pickle.GLOBAL + module.encode() + b'\n' + name.encode() + b'\n')
        self.memoize(obj)


def batch(label, first, n=2):
    g = np.arange(first, first + n)
    c = np.arange(3)[:, None]
    p = np.arange(1024)[None, :]
    data = np.stack([((x * 7 + 3 * p + c) % 256).reshape(3072) for x in g]).astype(np.uint8)
    return {
        b'batch_label': label.encode(),
        b'labels': [int(x % 10) for x in g],
        b'data': data,
        b'filenames': [f'img_{x}.png'.encode() for x in g],
    }


def py2_dump(obj, path):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    with open(path, 'wb') as f:
        f.write(buf.getvalue())


def main():
    out = os.path.join(HERE, 'fixtures', 'cifar-10-batches-py')
    os.makedirs(out, exist_ok=True)
    for k in range(1, 6):
        py2_dump(batch(f'training batch {k} of 5', 2 * (k - 1)), os.path.join(out, f'data_batch_{k}'))
    py2_dump(batch('testing batch 1 of 1', 100), os.path.join(out, 'test_batch'))
    names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
    py2_dump({b'num_cases_per_batch': 10000, b'label_names': [n.encode() for n in names], b'num_vis': 3072}, os.path.join(out, 'batches.meta'))
    py3 = os.path.join(HERE, 'fixtures', 'py3')
    os.makedirs(py3, exist_ok=True)
    with open(os.path.join(py3, 'protocol2'), 'wb') as f:
        pickle.dump(batch('training batch 1 of 5', 0), f, protocol=2)
    with open(os.path.join(py3, 'protocol4'), 'wb') as f:
        pickle.dump(batch('training batch 1 of 5', 0), f, protocol=4)
    # every file loads as the official ones do, to the same content
    for path in [os.path.join(out, 'data_batch_1'), os.path.join(py3, 'protocol2'), os.path.join(py3, 'protocol4')]:
        with open(path, 'rb') as f:
            d = pickle.load(f, encoding='bytes')
        assert d[b'labels'] == [0, 1] and d[b'data'].dtype == np.uint8 and d[b'data'].shape == (2, 3072), path
        assert int(d[b'data'][1][1024 + 5]) == (1 * 7 + 15 + 1) % 256, path


if __name__ == '__main__':
    main()
