// A safe pickle machine: it decodes the opcodes of pickle protocols 0–5 into plain values
// (./values.ts) and never runs anything. GLOBAL/STACK_GLOBAL names are resolved through a
// caller-supplied allow-list; any other name is refused on sight, with an error naming it.
// REDUCE/NEWOBJ call only the JavaScript functions the allow-list returned, BUILD only records
// state on dicts or on objects that accept it. Opcodes that need a class registry or out-of-band
// data (INST, OBJ, EXT1/2/4, NEXT_BUFFER, READONLY_BUFFER) are refused.
//
// Bounds: every length, memo index and offset is checked against the input before use, so the
// machine allocates at most O(input size); it is a loop over the input (one opcode per step,
// each consuming at least one byte) with explicit stacks, so it cannot recurse or hang.
import { DataError } from '../../errors.js';
import { PyBytes, PyDict, PyGlobal, PyList, PyObject, PySet, PyTuple, describe, isKey, type PyKey, type PyValue } from './values.js';

export class UnpicklingError extends DataError {
  override name = 'UnpicklingError';
}

/** An object that BUILD may give state to (Python's __setstate__), validated by the object. */
export interface AcceptsState {
  setState(state: PyValue): void;
}

function acceptsState(v: PyValue): v is PyObject & AcceptsState {
  return v instanceof PyObject && typeof (v as Partial<AcceptsState>).setState === 'function';
}

export interface UnpickleOptions {
  /** Labels errors (a file name and entry). */
  where: string;
  /** Returns the admitted global, or null to refuse it. */
  resolveGlobal(module: string, name: string): PyGlobal | null;
  /** Resolves a persistent id (BINPERSID/PERSID); absent means persistent ids are refused. */
  persistentLoad?(pid: PyValue): PyValue;
}

export interface UnpickleResult {
  value: PyValue;
  /** Offset just past the STOP opcode (legacy .pth files hold several pickles back to back). */
  end: number;
}

/** Largest LONG1/LONG4 integer accepted, in bytes (state dicts need 8 at most). */
const MAX_LONG_BYTES = 64;
const MAX_LINE = 1 << 16;

const OPCODE_NAMES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

class Machine {
  private pos: number;
  private stack: PyValue[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly opts: UnpickleOptions,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private fail(msg: string): never {
    throw new UnpicklingError(`${this.opts.where}: ${msg}`);
  }

  // ---- reading the input ----

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      this.fail(`pickle truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${Math.max(0, this.buf.length - this.pos)} left`);
    }
  }

  private u8(): number {
    this.need(1, 'opcode argument');
    return this.buf[this.pos++]!;
  }

  private u16(): number {
    this.need(2, 'opcode argument');
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4, 'opcode argument');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private i32(): number {
    this.need(4, 'opcode argument');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** An 8-byte length, rejected if it exceeds the bytes left. */
  private u64Length(): number {
    this.need(8, 'opcode argument');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.buf.length - this.pos))
      this.fail(`length ${v} at offset ${this.pos - 8} exceeds the ${this.buf.length - this.pos} bytes left`);
    return Number(v);
  }

  private bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  private line(): string {
    const limit = Math.min(this.buf.length, this.pos + MAX_LINE);
    let end = this.pos;
    while (end < limit && this.buf[end] !== 0x0a) end++;
    if (end >= limit) this.fail(`unterminated text argument at offset ${this.pos}`);
    const s = new TextDecoder('latin1').decode(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private utf8(n: number): string {
    return new TextDecoder('utf-8').decode(this.bytes(n, 'string'));
  }

  // ---- stacks ----

  private push(v: PyValue): void {
    this.stack.push(v);
  }

  private pop(): PyValue {
    const floor = this.marks.at(-1) ?? 0;
    if (this.stack.length <= floor) this.fail(`stack underflow at offset ${this.pos - 1}`);
    return this.stack.pop() as PyValue;
  }

  private top(): PyValue {
    const floor = this.marks.at(-1) ?? 0;
    if (this.stack.length <= floor) this.fail(`stack underflow at offset ${this.pos - 1}`);
    return this.stack[this.stack.length - 1] as PyValue;
  }

  /** Items pushed since the last MARK (removed, with the mark). */
  private popMark(): PyValue[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail(`MARK expected at offset ${this.pos - 1}`);
    return this.stack.splice(m);
  }

  private memoGet(i: number): PyValue {
    if (!this.memo.has(i)) this.fail(`memo index ${i} is not defined (offset ${this.pos})`);
    return this.memo.get(i) as PyValue;
  }

  private memoPut(i: number): void {
    if (!Number.isSafeInteger(i) || i < 0) this.fail(`bad memo index ${i}`);
    this.memo.set(i, this.top());
  }

  // ---- value helpers ----

  private key(v: PyValue): PyKey {
    if (!isKey(v)) this.fail(`unsupported dict key (${describe(v)}) at offset ${this.pos - 1}`);
    return v;
  }

  private setItems(target: PyValue, items: PyValue[]): void {
    if (!(target instanceof PyDict)) this.fail(`SETITEM(S) on ${describe(target)} at offset ${this.pos - 1}`);
    if (items.length % 2 !== 0) this.fail(`odd number of items for SETITEMS at offset ${this.pos - 1}`);
    for (let i = 0; i < items.length; i += 2) target.map.set(this.key(items[i]!), items[i + 1]!);
  }

  private appendItems(target: PyValue, items: PyValue[]): void {
    if (!(target instanceof PyList)) this.fail(`APPEND(S) on ${describe(target)} at offset ${this.pos - 1}`);
    for (const v of items) target.items.push(v);
  }

  private addItems(target: PyValue, items: PyValue[]): void {
    if (!(target instanceof PySet)) this.fail(`ADDITEMS on ${describe(target)} at offset ${this.pos - 1}`);
    for (const v of items) target.items.add(this.key(v));
  }

  private global(module: string, name: string): PyGlobal {
    const g = this.opts.resolveGlobal(module, name);
    if (g === null)
      this.fail(
        `refused global '${module}.${name}': only tensor/storage rebuild functions, OrderedDict and torch dtypes are allowed (the file was not executed)`,
      );
    return g;
  }

  private callGlobal(f: PyValue, args: PyValue, op: string): PyValue {
    if (!(f instanceof PyGlobal) || f.call === null) this.fail(`${op} of ${describe(f)} is not allowed (offset ${this.pos - 1})`);
    if (!(args instanceof PyTuple)) this.fail(`${op} of ${f.qualifiedName}: arguments are ${describe(args)}, not a tuple`);
    try {
      return f.call(args.items);
    } catch (err) {
      // Allow-listed functions report bad arguments as plain Errors; anything else is a bug.
      if (err instanceof Error && err.constructor === Error) this.fail(`${f.qualifiedName}: ${err.message}`);
      throw err;
    }
  }

  private long(bytes: Uint8Array): number | bigint {
    if (bytes.length > MAX_LONG_BYTES) this.fail(`integer of ${bytes.length} bytes is too large`);
    if (bytes.length === 0) return 0;
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
    return normalizeInt(v);
  }

  private textInt(s: string): number | bigint {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[-+]?[0-9]{1,150}$/.test(t)) this.fail(`bad integer literal ${JSON.stringify(s.slice(0, 40))}`);
    return normalizeInt(BigInt(t));
  }

  private persistent(pid: PyValue): PyValue {
    if (!this.opts.persistentLoad) this.fail('persistent ids are not allowed here');
    return this.opts.persistentLoad(pid);
  }

  // ---- the loop ----

  run(): UnpickleResult {
    for (;;) {
      if (this.pos >= this.buf.length) this.fail(`pickle truncated: no STOP opcode before offset ${this.pos}`);
      const op = this.buf[this.pos++]!; // in range: checked just above
      switch (op) {
        case 0x80: {
          // PROTO
          const p = this.u8();
          if (p > 5) this.fail(`unsupported pickle protocol ${p}`);
          break;
        }
        case 0x95:
          this.u64Length();
          break; // FRAME: a hint only
        case 0x2e: {
          // STOP
          const value = this.pop();
          return { value, end: this.pos };
        }
        case 0x28:
          this.marks.push(this.stack.length);
          break; // MARK
        case 0x30: // POP
          if (this.marks.length > 0 && this.stack.length === this.marks[this.marks.length - 1]) this.popMark();
          else this.pop();
          break;
        case 0x31:
          this.popMark();
          break; // POP_MARK
        case 0x32:
          this.push(this.top());
          break; // DUP

        // numbers and constants
        case 0x4e:
          this.push(null);
          break; // NONE
        case 0x88:
          this.push(true);
          break; // NEWTRUE
        case 0x89:
          this.push(false);
          break; // NEWFALSE
        case 0x4a:
          this.push(this.i32());
          break; // BININT
        case 0x4b:
          this.push(this.u8());
          break; // BININT1
        case 0x4d:
          this.push(this.u16());
          break; // BININT2
        case 0x8a: {
          const n = this.u8();
          this.push(this.long(this.bytes(n, 'LONG1')));
          break;
        }
        case 0x8b: {
          // LONG4
          const n = this.i32();
          if (n < 0) this.fail('negative LONG4 length');
          this.push(this.long(this.bytes(n, 'LONG4')));
          break;
        }
        case 0x49: {
          // INT (text); I01/I00 are True/False
          const s = this.line();
          if (s === '01') this.push(true);
          else if (s === '00') this.push(false);
          else this.push(this.textInt(s));
          break;
        }
        case 0x4c:
          this.push(this.textInt(this.line()));
          break; // LONG (text)
        case 0x47: {
          // BINFLOAT (big-endian)
          this.need(8, 'BINFLOAT');
          this.push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;
        }
        case 0x46: {
          // FLOAT (text)
          const s = this.line().trim();
          const v = Number(s);
          if (s === '' || (Number.isNaN(v) && !/^[-+]?nan$/i.test(s))) this.fail(`bad float literal ${JSON.stringify(s.slice(0, 40))}`);
          this.push(v);
          break;
        }

        // strings and bytes
        case 0x58:
          this.push(this.utf8(this.u32()));
          break; // BINUNICODE
        case 0x8c:
          this.push(this.utf8(this.u8()));
          break; // SHORT_BINUNICODE
        case 0x8d:
          this.push(this.utf8(this.u64Length()));
          break; // BINUNICODE8
        case 0x56:
          this.push(decodeRawUnicodeEscape(this.line()));
          break; // UNICODE
        case 0x54: {
          // BINSTRING (Python 2 str, decoded as UTF-8 like torch.load)
          const n = this.i32();
          if (n < 0) this.fail('negative BINSTRING length');
          this.push(this.utf8(n));
          break;
        }
        case 0x55:
          this.push(this.utf8(this.u8()));
          break; // SHORT_BINSTRING
        case 0x53:
          this.push(decodeQuotedString(this.line(), (m) => this.fail(m)));
          break; // STRING
        case 0x42:
          this.push(new PyBytes(new Uint8Array(this.bytes(this.u32(), 'BINBYTES'))));
          break;
        case 0x43:
          this.push(new PyBytes(new Uint8Array(this.bytes(this.u8(), 'SHORT_BINBYTES'))));
          break;
        case 0x8e:
          this.push(new PyBytes(new Uint8Array(this.bytes(this.u64Length(), 'BINBYTES8'))));
          break;
        case 0x96:
          this.push(new PyBytes(new Uint8Array(this.bytes(this.u64Length(), 'BYTEARRAY8'))));
          break;

        // containers
        case 0x29:
          this.push(new PyTuple([]));
          break; // EMPTY_TUPLE
        case 0x74:
          this.push(new PyTuple(this.popMark()));
          break; // TUPLE
        case 0x85: {
          const a = this.pop();
          this.push(new PyTuple([a]));
          break;
        } // TUPLE1
        case 0x86: {
          const b = this.pop();
          const a = this.pop();
          this.push(new PyTuple([a, b]));
          break;
        } // TUPLE2
        case 0x87: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(new PyTuple([a, b, c]));
          break;
        }
        case 0x5d:
          this.push(new PyList());
          break; // EMPTY_LIST
        case 0x6c:
          this.push(new PyList(this.popMark()));
          break; // LIST
        case 0x61: {
          const v = this.pop();
          this.appendItems(this.top(), [v]);
          break;
        } // APPEND
        case 0x65: {
          const items = this.popMark();
          this.appendItems(this.top(), items);
          break;
        } // APPENDS
        case 0x7d:
          this.push(new PyDict());
          break; // EMPTY_DICT
        case 0x64: {
          const d = new PyDict();
          this.setItems(d, this.popMark());
          this.push(d);
          break;
        } // DICT
        case 0x73: {
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        } // SETITEM
        case 0x75: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        } // SETITEMS
        case 0x8f:
          this.push(new PySet());
          break; // EMPTY_SET
        case 0x90: {
          const items = this.popMark();
          this.addItems(this.top(), items);
          break;
        } // ADDITEMS
        case 0x91: {
          const s = new PySet();
          this.addItems(s, this.popMark());
          this.push(s);
          break;
        } // FROZENSET

        // memo
        case 0x71:
          this.memoPut(this.u8());
          break; // BINPUT
        case 0x72:
          this.memoPut(this.u32());
          break; // LONG_BINPUT
        case 0x70: {
          // PUT
          const s = this.line();
          if (!/^[0-9]{1,15}$/.test(s)) this.fail(`bad PUT index ${JSON.stringify(s.slice(0, 20))}`);
          this.memoPut(Number(s));
          break;
        }
        case 0x94:
          this.memoPut(this.memo.size);
          break; // MEMOIZE
        case 0x68:
          this.push(this.memoGet(this.u8()));
          break; // BINGET
        case 0x6a:
          this.push(this.memoGet(this.u32()));
          break; // LONG_BINGET
        case 0x67: {
          // GET
          const s = this.line();
          if (!/^[0-9]{1,15}$/.test(s)) this.fail(`bad GET index ${JSON.stringify(s.slice(0, 20))}`);
          this.push(this.memoGet(Number(s)));
          break;
        }

        // globals and object construction (allow-listed only)
        case 0x63: {
          const module = this.line();
          const name = this.line();
          this.push(this.global(module, name));
          break;
        } // GLOBAL
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
          this.push(this.global(module, name));
          break;
        }
        case 0x52: {
          const args = this.pop();
          const f = this.pop();
          this.push(this.callGlobal(f, args, 'REDUCE'));
          break;
        }
        case 0x81: {
          const args = this.pop();
          const cls = this.pop();
          this.push(this.callGlobal(cls, args, 'NEWOBJ'));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(kwargs instanceof PyDict) || kwargs.map.size !== 0) this.fail('NEWOBJ_EX with keyword arguments is not supported');
          this.push(this.callGlobal(cls, args, 'NEWOBJ_EX'));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          const target = this.top();
          if (target instanceof PyDict) target.attributes = state;
          else if (acceptsState(target)) target.setState(state);
          else this.fail(`BUILD on ${describe(target)} is not allowed (offset ${this.pos - 1})`);
          break;
        }
        case 0x51: {
          const pid = this.pop();
          this.push(this.persistent(pid));
          break;
        } // BINPERSID
        case 0x50:
          this.push(this.persistent(this.line()));
          break; // PERSID

        default: {
          const name = OPCODE_NAMES[op];
          if (name) this.fail(`pickle opcode ${name} is not supported (it would construct arbitrary objects)`);
          this.fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${this.pos - 1}`);
        }
      }
    }
  }
}

function normalizeInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Python's raw-unicode-escape: only \uXXXX and \UXXXXXXXX are escapes. */
function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) => {
    const cp = parseInt((u4 ?? u8) as string, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  });
}

/** Protocol-0 STRING: a quoted Python literal; common escapes only. */
function decodeQuotedString(s: string, fail: (m: string) => never): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s.length < 2 || s[s.length - 1] !== q) fail('STRING argument is not quoted');
  const body = s.slice(1, -1);
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    if (e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    const r = escapes[e];
    if (r === undefined) fail(`unsupported escape \\${e} in STRING`);
    return r;
  });
}

/** Runs one pickle starting at `start` and returns its value and where it ended. */
export function unpickle(buf: Uint8Array, start: number, opts: UnpickleOptions): UnpickleResult {
  return new Machine(buf, start, opts).run();
}
