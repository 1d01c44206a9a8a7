/**
 * A reader for exactly the Python pickles of the CIFAR python version: a dict of byte strings,
 * lists of ints and numpy arrays, as Python 2's cPickle wrote them (protocol 2), or as Python 3
 * writes them (protocols 2 to 4). Nothing is executed: the only callables it knows are numpy's array
 * and dtype reconstructors and _codecs.encode (how Python 3 writes bytes at protocol 2); any other
 * opcode or global is a coded error naming the file and the byte offset.
 */
import { ModnasError } from '@modnas/core';

/** A numpy array: C-order data of `dtype` (numpy's dtype string, e.g. 'u1'). */
export class NdArray {
  shape: number[] = [];
  dtype = '';
  fortran = false;
  data: Uint8Array = new Uint8Array(0);
}

/** A Python tuple (lists are arrays). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export class PyGlobal {
  constructor(readonly name: string) {}
}

export class PyDtype {
  constructor(readonly str: string) {}
}

/** Python values: None, bool, int/float, str, bytes, list, tuple, dict (keys as text), numpy array. */
export type PyValue = null | boolean | number | string | Uint8Array | PyValue[] | PyTuple | Map<string, PyValue> | NdArray | PyGlobal | PyDtype;

const RECONSTRUCT = new Set(['numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct']);
const MARK = Symbol('mark');
type Slot = PyValue | typeof MARK;

function fail(file: string, at: number, what: string): ModnasError {
  return new ModnasError('MODNAS_E_DATA_FORMAT', `${file}: ${what} (at byte ${at}); this reader takes the CIFAR python pickles (a dict with byte strings, lists of ints and numpy uint8 arrays, pickle protocol 2 to 4)`, {
    fix: 'use the CIFAR-10 python version (cifar-10-python.tar.gz) as downloaded, or its binary version (cifar-10-binary.tar.gz)',
    where: file,
  });
}

/** The dict key of a str or bytes value (bytes read as latin1, as pickle.load(encoding='bytes') keys compare). */
function keyOf(v: PyValue): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
  return undefined;
}

/** Unpickle `buf` (the bytes of `file`, named in errors). */
export function unpickle(buf: Uint8Array, file = 'pickle'): PyValue {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: Slot[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let at = 0;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw fail(file, at, `the file ends inside an opcode (${buf.length} bytes): truncated`);
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++];
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(file, at, 'a length beyond 2^53');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const text = (n: number): string => Buffer.from(bytes(n)).toString('utf8');
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) throw fail(file, at, 'a GLOBAL without its newline');
    const s = Buffer.from(buf.subarray(pos, end)).toString('latin1');
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw fail(file, at, 'a pickle stack underflow: not a pickle, or a damaged one');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw fail(file, at, 'a pickle stack underflow: not a pickle, or a damaged one');
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw fail(file, at, 'no MARK on the pickle stack');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const setItems = (d: PyValue, kv: PyValue[]): void => {
    if (!(d instanceof Map)) throw fail(file, at, 'SETITEM on something other than a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) {
      const k = keyOf(kv[i]);
      if (k === undefined) throw fail(file, at, 'a dict key that is not a string');
      d.set(k, kv[i + 1]);
    }
  };
  const reduce = (fn: PyValue, args: PyValue): PyValue => {
    const a = args instanceof PyTuple ? args.items : [];
    if (!(fn instanceof PyGlobal)) throw fail(file, at, 'REDUCE of something that is not a known callable');
    if (RECONSTRUCT.has(fn.name)) return new NdArray();
    if (fn.name === 'numpy.dtype' && typeof a[0] === 'string') return new PyDtype(a[0]);
    if (fn.name === 'numpy.dtype' && a[0] instanceof Uint8Array) return new PyDtype(keyOf(a[0])!);
    if (fn.name === '_codecs.encode' && typeof a[0] === 'string' && /^latin[-_]?1$/i.test(String(a[1]))) {
      const s = a[0];
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    }
    throw fail(file, at, `a call of ${fn.name}, which a CIFAR pickle does not make`);
  };
  const build = (obj: PyValue, state: PyValue): void => {
    if (obj instanceof PyDtype) return;
    if (!(obj instanceof NdArray) || !(state instanceof PyTuple)) throw fail(file, at, 'BUILD of something other than a numpy array');
    const [, shape, dtype, fortran, data] = state.items;
    if (!(shape instanceof PyTuple) || !(dtype instanceof PyDtype) || !(data instanceof Uint8Array)) throw fail(file, at, 'a numpy array state without shape, dtype and raw data');
    obj.shape = shape.items.map(Number);
    obj.dtype = dtype.str;
    obj.fortran = fortran === true || fortran === 1;
    obj.data = data;
  };
  for (;;) {
    at = pos;
    const op = u8();
    switch (op) {
      case 0x80: {
        const proto = u8();
        if (proto < 2 || proto > 4) throw fail(file, at, `pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME: a length we do not need
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) throw fail(file, at, `memo entry ${k} used before it was stored`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x55: // SHORT_BINSTRING (Python 2 str: bytes)
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()));
        break;
      case 0x54: // BINSTRING
      case 0x42: // BINBYTES
        stack.push(bytes(u32()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement
        const n = u8();
        if (n > 6) throw fail(file, at, `an integer of ${n} bytes`);
        const b = bytes(n);
        let v = 0;
        for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
        if (n > 0 && b[n - 1] >= 0x80) v -= 2 ** (8 * n);
        stack.push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items: PyValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push(new PyTuple(items));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) throw fail(file, at, 'APPEND to something other than a list');
        l.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) throw fail(file, at, 'APPENDS to something other than a list');
        for (const v of items) l.push(v);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x63: // GLOBAL
        stack.push(new PyGlobal(`${line()}.${line()}`));
        break;
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const mod = pop();
        stack.push(new PyGlobal(`${String(mod)}.${String(name)}`));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(reduce(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      default:
        throw fail(file, at, `pickle opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))})`);
    }
  }
}
