// The safe pickle machine on hand-made pickles: opcode coverage (protocols 0–4), memo and stack
// errors, refused globals and opcodes, and bounds on lengths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../src/errors.js';
import { unpickle } from '../src/io/pickle/machine.js';
import { PyDict, PyList, PyTuple, PyBytes, type PyValue } from '../src/io/pickle/values.js';
import { StorageRef, TensorRef, resolveTorchGlobal } from '../src/io/pth/torch_globals.js';

const opts = { where: 't.pkl', resolveGlobal: resolveTorchGlobal };
const run = (bytes: number[] | string): PyValue =>
  unpickle(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Uint8Array.from(bytes), 0, opts).value;

test('protocol 2 values: ints, longs, floats, strings, tuples, lists, dicts, memo', () => {
  // pickle.dumps({'a': [1, -2, 300, 70000, 2**40], 'b': (1.5, None, True), 'c': 'é'}, 2)
  const v = run(
    '\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01J\xfe\xff\xff\xffM,\x01J\x70\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\x01eX\x01\x00\x00\x00bq\x03G?\xf8\x00\x00\x00\x00\x00\x00N\x88\x87q\x04X\x01\x00\x00\x00cq\x05X\x02\x00\x00\x00\xc3\xa9q\x06u.',
  );
  assert.ok(v instanceof PyDict);
  const a = v.map.get('a') as PyList;
  assert.deepEqual(a.items, [1, -2, 300, 70000, 2 ** 40]);
  assert.deepEqual((v.map.get('b') as PyTuple).items, [1.5, null, true]);
  assert.equal(v.map.get('c'), 'é');
});

test('protocol 0 text opcodes and protocol 4 framing, short strings, MEMOIZE, STACK_GLOBAL', () => {
  // pickle.dumps([1, 'x', 2.5, b'\x01'], 0)-style text opcodes (hand-written)
  const v0 = run('(lp0\nI1\naVx\np1\naF2.5\naL12345678901234567890L\na.');
  assert.deepEqual((v0 as PyList).items, [1, 'x', 2.5, 12345678901234567890n]);
  // pickle.dumps(collections.OrderedDict([('k', b'\x01')]), 4)
  const v4 = run(
    '\x80\x04\x95\x2b\x00\x00\x00\x00\x00\x00\x00\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94\x8c\x01k\x94C\x01\x01\x94s.',
  );
  assert.ok(v4 instanceof PyDict && v4.typeName === 'OrderedDict');
  assert.deepEqual((v4.map.get('k') as PyBytes).bytes, Uint8Array.from([1]));
});

test('refused globals name the global; nothing outside the allow-list is constructed', () => {
  const cases: [string, string][] = [
    ['cos\nsystem\n(Vtouch /tmp/x\ntR.', 'os.system'],
    ['cposix\nsystem\n.', 'posix.system'],
    ['\x80\x04\x8c\x08builtins\x8c\x04eval\x93.', 'builtins.eval'],
    ['ctorch\nload\n.', 'torch.load'],
    ['ctorch._utils\n_rebuild_qtensor\n.', 'torch._utils._rebuild_qtensor'],
  ];
  for (const [p, name] of cases) {
    assert.throws(
      () => run(p),
      (e: Error) => e instanceof DataError && e.message.includes(`refused global '${name}'`),
      name,
    );
  }
  assert.throws(() => run('(i__main__\nX\n.'), /opcode INST is not supported/);
  assert.throws(() => run('\x80\x02\x82\x01.'), /opcode EXT1 is not supported/);
  // REDUCE of something that is not an allow-listed callable
  assert.throws(() => run('\x80\x02X\x01\x00\x00\x00a)R.'), /REDUCE of str/);
  // BUILD on a list
  assert.throws(() => run('\x80\x02]}b.'), /BUILD on list is not allowed/);
  // persistent ids without a loader
  assert.throws(() => run('\x80\x02X\x01\x00\x00\x00aQ.'), /persistent ids are not allowed/);
});

test('memo, stack and length errors are DataErrors, never crashes', () => {
  const bad: [string | number[], RegExp][] = [
    ['\x80\x02h\x05.', /memo index 5 is not defined/],
    ['\x80\x02j\xff\xff\xff\xff.', /memo index 4294967295 is not defined/],
    ['\x80\x020.', /stack underflow/],
    ['\x80\x02u.', /MARK expected/],
    ['\x80\x02X\xff\xff\xff\x7fab.', /pickle truncated/],
    ['\x80\x02\x8d\x00\x00\x00\x00\x00\x00\x00\x80.', /length \d+ at offset 3 exceeds/],
    ['\x80\x02\x8b\x00\x00\x01\x00', /pickle truncated/],
    ['\x80\x02K\x01', /no STOP opcode/],
    ['\x80\x06.', /unsupported pickle protocol 6/],
    ['\x80\x02\xff', /unknown pickle opcode 0xff/],
    ['\x80\x02(K\x01K\x02K\x03d.', /odd number of items/],
    ['\x80\x02}]K\x01s.', /unsupported dict key \(list\)/],
  ];
  for (const [p, re] of bad)
    assert.throws(
      () => run(p),
      (e: Error) => e instanceof DataError && re.test(e.message),
      String(re),
    );
});

test('self-referencing structures do not recurse', () => {
  // l = []; l.append(l); pickle.dumps(l, 2)
  const v = run('\x80\x02]q\x00h\x00a.') as PyList;
  assert.equal(v.items[0], v);
});

test('_rebuild_tensor_v2 rejects views that reach past their storage', () => {
  // A (2, 2) view with strides (2, 1) at offset 1 needs elements 1..4 of a 4-element storage.
  const pkl = Buffer.from(
    '\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x01K\x02K\x02\x86K\x02K\x01\x86\x89ccollections\nOrderedDict\n)RtR.',
    'latin1',
  );
  const storage = new StorageRef('0', 'float32', 4);
  assert.throws(
    () => unpickle(pkl, 0, { ...opts, persistentLoad: () => storage }),
    (e: Error) => e instanceof DataError && /reaches past its storage '0' of 4 elements/.test(e.message),
  );
  const ok = new StorageRef('0', 'float32', 5);
  const t = unpickle(pkl, 0, { ...opts, persistentLoad: () => ok }).value;
  assert.ok(t instanceof TensorRef);
  assert.deepEqual([t.offset, t.shape, t.stride], [1, [2, 2], [2, 1]]);
});
