// The browser library (issue 12): src/browser.ts bundled for the browser by
// scripts/bundle_browser.mjs reaches no Node built-in and none of the Node side; and the bundle,
// run in a bare vm context (standard web globals only — no process, require or Buffer; fetch is a
// stub over bytes), reads the files PyTorch and NumPy wrote, builds `alexnet` from .pth bytes
// given as an ArrayBuffer, a File or a URL with the Node library's logits, saves weights to a
// Blob byte for byte as the Node writers do, and refuses weights of another AlexNet with the Node
// library's message. (The bundle's ESM export is turned into a global by esbuild's transform; the
// code is the bundle's. Real Chromium runs are the web page's tests.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { transform, type Plugin } from 'esbuild';
import { setBackend } from '../src/backend/registry.js';
import { crc32, crc32Update } from '../src/io/pth/zip.js';
import { createModel, io, manualSeed, noGrad, readNpy, readPth, readSafetensors, Tensor } from '../src/index.js';

type BundleScript = typeof import('../scripts/bundle_browser.mjs');
type Library = typeof import('../src/browser.js');

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test', 'fixtures', 'io');
const script = (await import(pathToFileURL(join(root, 'scripts', 'bundle_browser.mjs')).href)) as BundleScript;

let outdir = '';
let lib: Library;
const warnings: string[] = [];
/** What the stub fetch serves, by URL (anything else: 404; the 'unreachable' host: a network error). */
const served = new Map<string, Uint8Array>();

async function stubFetch(url: string): Promise<Response> {
  if (new URL(url).hostname === 'unreachable.invalid') throw new TypeError('fetch failed');
  const bytes = served.get(url);
  return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>) : new Response('no such file', { status: 404, statusText: 'Not Found' });
}

before(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'alexnet-browser-'));
  const [main] = await script.bundleBrowser({ outdir, quiet: true });
  const { code } = await transform(readFileSync(main!.file, 'utf8'), { format: 'iife', globalName: 'alexnetBundle', logLevel: 'silent' });
  const console = {
    log: () => {},
    info: () => {},
    warn: (line: string) => warnings.push(line),
    error: (line: string) => warnings.push(line),
  };
  const web = { TextEncoder, TextDecoder, Blob, File, URL, Response, AbortController, crypto, performance, console, fetch: stubFetch };
  const context = vm.createContext({ ...web, setTimeout, clearTimeout, queueMicrotask, structuredClone, atob, btoa });
  vm.runInContext(code, context, { filename: main!.file });
  lib = (context as { alexnetBundle: Library }).alexnetBundle;
  assert.equal(
    vm.runInContext('[typeof process, typeof require, typeof Buffer, typeof global].join()', context),
    'undefined,undefined,undefined,undefined',
  );
});

after(() => rmSync(outdir, { recursive: true, force: true }));

/** One Uint8Array of the writer's chunks (what a server or a File would hold). */
function concat(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The message of what `fn` throws (or rejects with). */
async function messageOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail('expected an error');
}

test('src/browser.ts bundled for the browser reaches no Node built-in and none of the Node side', async () => {
  const builtins: string[] = [];
  const findBuiltins: Plugin = {
    name: 'find-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        builtins.push(`${relative(root, args.importer)} imports ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const out = await script.bundleEntry({
    entry: join(root, 'src', 'browser.ts'),
    outfile: join(outdir, 'probe', 'alexnet.js'),
    plugins: [findBuiltins],
    logLevel: 'silent',
  });
  assert.deepEqual(builtins, []);
  const inputs = Object.keys(out.metafile.inputs);
  assert.ok(inputs.includes('src/backend/platform_neutral.ts'), `the browser's backends table is bundled (inputs: ${inputs.length})`);
  const nodeSide = /platform_node|backend\/native\/|native_addons|file_source|write_atomic|lazy_tensor|src\/(cli|train|data)\//;
  assert.deepEqual(
    inputs.filter((p) => nodeSide.test(p)),
    [],
  );
  assert.ok(out.gzipBytes > 0 && out.gzipBytes < out.bytes);
});

test("package.json exports: the 'browser' condition gets the bundle, Node the full library, and both resolve", () => {
  assert.ok(existsSync(join(root, 'dist', 'browser', 'alexnet.js')), 'dist/browser/alexnet.js is built (npm run build)');
  const probe = (conditions: string[]): unknown => {
    const code =
      "const a = await import('alexnet'); console.log(JSON.stringify([import.meta.resolve('alexnet'), typeof a.loadModel, typeof a.loadWeights, a.getBackend().name]))";
    const out = execFileSync(process.execPath, [...conditions, '--input-type=module', '-e', code], {
      cwd: root,
      env: { ...process.env, ALEXNET_BACKEND: '' },
      encoding: 'utf8',
    });
    return JSON.parse(out) as unknown;
  };
  const [browserUrl, ...browser] = probe(['--conditions=browser']) as [string, ...unknown[]];
  assert.ok(browserUrl.endsWith('/dist/browser/alexnet.js'), browserUrl);
  assert.deepEqual(browser, ['function', 'undefined', 'reference']);
  const [nodeUrl, ...node] = probe([]) as [string, ...unknown[]];
  assert.ok(nodeUrl.endsWith('/dist/src/index.js'), nodeUrl);
  assert.deepEqual(node.slice(0, 2), ['function', 'function']);
});

test('the bundle has no native backend: the default is the reference backend, and asking for native says so once', () => {
  assert.equal(lib.defaultBackendName(), 'reference');
  const backend = lib.setBackend('native');
  assert.equal(backend, lib.referenceBackend());
  lib.setBackend('native');
  assert.deepEqual(warnings, [
    'alexnet: native backend unavailable (there is no native backend on this platform); using the reference TypeScript backend',
  ]);
});

test('the bundle reads the .pth, safetensors and .npy files PyTorch and NumPy wrote as the Node library does', async () => {
  const pthDir = join(fixtures, 'pth');
  for (const file of readdirSync(pthDir).filter((f) => f.endsWith('.pth'))) {
    const bytes = readFileSync(join(pthDir, file));
    if (file.startsWith('malicious')) {
      const want = await messageOf(() => readPth(bytes, file));
      assert.equal(await messageOf(() => lib.readPth(new Uint8Array(bytes), file)), want, file);
      continue;
    }
    const want = readPth(join(pthDir, file));
    const got = lib.readPth(new Uint8Array(bytes), file);
    assert.deepEqual([...got.keys()], [...want.keys()], file);
    for (const [key, t] of want) {
      assert.deepEqual([...got.get(key)!.shape], t.shape, `${file}: ${key}`);
      assert.deepEqual(Array.from(got.get(key)!.data), Array.from(t.data), `${file}: ${key}`);
    }
  }
  const st = join(fixtures, 'safetensors', 'basic.safetensors');
  const want = readSafetensors(st);
  const got = lib.readSafetensors(new Uint8Array(readFileSync(st)));
  assert.deepEqual({ ...got.metadata }, want.metadata);
  assert.deepEqual([...got.tensors.keys()], [...want.tensors.keys()]);
  for (const [key, t] of want.tensors) assert.deepEqual(Array.from(got.tensors.get(key)!.data), Array.from(t.data), key);
  const npyDir = join(fixtures, 'npy');
  for (const file of readdirSync(npyDir).filter((f) => f.endsWith('.npy'))) {
    const wantNpy = readNpy(join(npyDir, file));
    const gotNpy = lib.parseNpy(new Uint8Array(readFileSync(join(npyDir, file))), file);
    const values = (a: { data: ArrayLike<number | bigint> }): (number | bigint)[] => Array.from(a.data);
    assert.deepEqual([gotNpy.dtype, [...gotNpy.shape], values(gotNpy)], [wantNpy.dtype, wantNpy.shape, values(wantNpy)], file);
  }
});

/** CRC-32 bit by bit, as the ZIP specification defines it. */
function bitwiseCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test('CRC-32 (checked over every zip entry a page reads from memory) is right at every alignment, length and split', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const base = new Uint8Array(4099);
  for (let i = 0; i < base.length; i++) base[i] = (i * 2654435761) >>> 24;
  for (const offset of [0, 1, 2, 3, 4, 5]) {
    for (const length of [0, 1, 7, 8, 15, 16, 17, 31, 64, 1000, 4093]) {
      const bytes = base.subarray(offset, offset + length);
      const want = bitwiseCrc32(bytes);
      assert.equal(crc32(bytes), want, `offset ${offset}, length ${length}`);
      const split = length >> 1;
      assert.equal(
        crc32Update(crc32Update(0, bytes.subarray(0, split)), bytes.subarray(split)),
        want,
        `offset ${offset}, length ${length}, split`,
      );
    }
  }
});

/** torchvision's alexnet (10 classes, 63×63 inputs: every weight but the last layer full size) as .pth bytes, an input and its logits, by the Node library. */
const reference = (() => {
  let made: { pth: Uint8Array<ArrayBuffer>; input: Float32Array; logits: Float32Array } | null = null;
  return () => {
    if (made) return made;
    setBackend('reference');
    manualSeed(12);
    const model = createModel('alexnet', { numClasses: 10, inputSize: 63 }).eval();
    const input = Tensor.randn([2, 3, 63, 63]);
    const logits = noGrad(() => model.forward(input)).toArray() as Float32Array;
    made = { pth: concat(io.encodeWeights(model, 'pth')), input: input.toArray() as Float32Array, logits };
    return made;
  };
})();

/** The logits of a model made by the bundle, on the reference input. */
function bundleLogits(model: InstanceType<Library['AlexNet']>): Float32Array {
  const x = lib.Tensor.fromArray(reference().input, [2, 3, 63, 63]);
  return lib.noGrad(() => model.forward(x)).toArray() as Float32Array;
}

test('the bundle builds alexnet from .pth bytes, a File and a URL with the Node library logits, saves them to a Blob and loads that', async () => {
  const { pth, logits } = reference();
  lib.setBackend('reference');
  // Given as an ArrayBuffer (a copy, as a browser would hold it).
  const fromBuffer = await lib.loadModel(pth.slice().buffer);
  assert.equal(fromBuffer.arch, 'alexnet');
  assert.deepEqual(Array.from(bundleLogits(fromBuffer)), Array.from(logits));
  // Saved to a Blob: byte for byte what the Node writers make of the same weights.
  const blob = lib.saveWeightsBlob(fromBuffer, 'pth');
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), pth);
  const safetensors = new Uint8Array(await lib.saveWeightsBlob(fromBuffer, 'safetensors').arrayBuffer());
  const back = readSafetensors(safetensors).tensors;
  const sent = readPth(pth);
  assert.deepEqual([...back.keys()], [...sent.keys()]);
  for (const [key, t] of sent) assert.deepEqual(back.get(key)!.data, t.data, key);
  const fromSafetensors = await lib.loadModel(safetensors);
  assert.deepEqual(Array.from(bundleLogits(fromSafetensors)), Array.from(logits));
  // Loaded from a File into a model of the right shape.
  const target = lib.createModel('alexnet', { numClasses: 10, inputSize: 63, init: 'none' }).eval();
  await lib.loadWeightsFrom(target, new File([pth], 'alexnet.pth'));
  assert.deepEqual(Array.from(bundleLogits(target)), Array.from(logits));
  // Fetched from a URL.
  served.set('http://127.0.0.1:8080/weights/alexnet.pth', pth);
  const fromUrl = await lib.loadModel('http://127.0.0.1:8080/weights/alexnet.pth');
  assert.deepEqual(Array.from(bundleLogits(fromUrl)), Array.from(logits));
  served.clear();
});

test('weights of another AlexNet and unreadable sources: the Node library messages, as the bundle error classes', async () => {
  const { pth } = reference();
  const want = await messageOf(() => io.modelFromWeights(readPth(pth), { arch: 'alexnet-v1', source: 'alexnet.pth' }));
  assert.match(want, /^alexnet\.pth: these are torchvision AlexNet weights .*, not alexnet-v1: use --arch alexnet$/);
  const isUsage = (message: string) => (err: unknown) => err instanceof lib.UsageError && (err as Error).message === message;
  await assert.rejects(lib.loadModel(new File([pth], 'alexnet.pth'), { arch: 'alexnet-v1' }), isUsage(want));
  const v1 = lib.createModel('alexnet-v1', { numClasses: 10, inputSize: 65, init: 'none' });
  await assert.rejects(lib.loadWeightsFrom(v1, new File([pth], 'alexnet.pth')), isUsage(want));

  const isData = (message: string) => (err: unknown) => err instanceof lib.DataError && (err as Error).message === message;
  // A byte changed inside FC6's weights: the CRC-32 check refuses the file as the Node reader does.
  const corrupt = pth.slice();
  const middle = corrupt.length >> 1;
  corrupt[middle] = corrupt[middle]! ^ 0x40;
  const corruptMessage = await messageOf(() => readPth(corrupt, 'alexnet.pth'));
  assert.match(corruptMessage, /^alexnet\.pth: corrupt zip archive: CRC-32 mismatch in entry 'archive\/data\/\d+' \(file corrupted\)$/);
  await assert.rejects(lib.loadModel(new File([corrupt], 'alexnet.pth')), isData(corruptMessage));
  const missing = 'http://127.0.0.1:8080/weights/missing.pth';
  await assert.rejects(lib.loadModel(missing), isData(`${missing}: HTTP 404 Not Found`));
  const down = 'http://unreachable.invalid/alexnet.pth';
  await assert.rejects(lib.loadModel(down), isData(`${down}: cannot fetch (fetch failed)`));
  const notWeights = new TextEncoder().encode('{"hello": "world"}');
  const nodeMessage = await messageOf(() => io.readWeightsBytes(notWeights, 'notes.json'));
  assert.equal(nodeMessage, 'notes.json: not a weights file (expected a PyTorch .pth/.pt or a .safetensors file)');
  await assert.rejects(lib.loadModel(new File([notWeights], 'notes.json')), isData(nodeMessage));
  await assert.rejects(lib.loadModel(42 as unknown as ArrayBuffer), (err: unknown) => err instanceof lib.UsageError);
});
