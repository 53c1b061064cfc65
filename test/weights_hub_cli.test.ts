// Weights by name end to end, through the real CLI and the library. A random torchvision-layout
// AlexNet written by our writer stands in for torchvision's file in a TORCH_HOME made by the test
// (its bytes cannot carry torchvision's hash, so a successful download is proven in process with
// the download of the same file under its own hash prefix, which lands whole and loads):
// `predict`, `forward` and `train --pretrained` take it by name without a request and compute what
// the same file by path computes, and so does loadPretrained('alexnet').
// (`eval` is not run to the end here: its 1000×1000 confusion plot takes minutes; its --weights
// goes through the same resolver, checked with a wrong --arch.) With an empty cache and a local
// server: a 404 gives the offline line, a wrong-hash file exit 1 and an empty cache, Ctrl-C during
// a slow download exit 130 and no partial file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { hubWeightsFile } from '../src/io/hub.js';
import { modelFromWeights } from '../src/io/model_from_weights.js';
import { loadPretrained } from '../src/io/pretrained.js';
import { readWeightsFile, saveWeights } from '../src/io/weights.js';
import { createModel } from '../src/models/index.js';
import { Generator } from '../src/random.js';
import { noGrad, Tensor } from '../src/tensor.js';
import { assertClose } from './helpers.js';
import { tinyFashionMnist } from './train_helpers.js';
import { runCli, serveBytes, serveFile, serveSlowly, startServer, type TestServer } from './weights_hub_server.js';

const FILE = 'alexnet-owt-7be5be79.pth';
const tmp = mkdtempSync(join(tmpdir(), 'alexnet-hub-cli-'));
const cat = join('data', 'samples', 'cat.jpg');
let server: TestServer;
/** A random alexnet state dict, by path; and a TORCH_HOME whose cache holds the same file under torchvision's name. */
const weights = join(tmp, 'random-alexnet.pth');
const cachedHome = join(tmp, 'cached-home');
const cachedDir = join(cachedHome, 'hub', 'checkpoints');

before(async () => {
  server = await startServer();
  const model = createModel('alexnet', { rng: new Generator(3) });
  saveWeights(model, weights);
  mkdirSync(cachedDir, { recursive: true });
  linkSync(weights, join(cachedDir, FILE));
});
after(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

const env = (home: string): Record<string, string> => ({ TORCH_HOME: home, ALEXNET_WEIGHTS_URL: server.base });
const emptyHome = (): { home: string; dir: string } => {
  const home = mkdtempSync(join(tmp, 'empty-home-'));
  return { home, dir: join(home, 'hub', 'checkpoints') };
};
const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';

test('predict --weights torchvision uses the cached file without a request and answers as the file does', async () => {
  server.requests.length = 0;
  const byName = await runCli(['predict', cat, '--weights', 'torchvision', '--json'], env(cachedHome));
  assert.equal(byName.code, 0, byName.stderr);
  const byPath = await runCli(['predict', cat, '--weights', weights, '--json'], env(cachedHome));
  assert.equal(byPath.code, 0, byPath.stderr);
  assert.deepEqual(JSON.parse(byName.stdout), JSON.parse(byPath.stdout));
  assert.equal(server.requests.length, 0);
});

test("forward --weights IMAGENET1K_V1 and loadPretrained('alexnet') compute the cached file's logits", async () => {
  const x = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.37));
  const input = join(tmp, 'x.npy');
  const output = join(tmp, 'y.npy');
  writeNpy(input, x, [1, 3, 224, 224]);
  const r = await runCli(['forward', '--weights', 'IMAGENET1K_V1', '--input', input, '--output', output], env(cachedHome));
  assert.equal(r.code, 0, r.stderr);
  const model = await loadPretrained('alexnet', { env: { TORCH_HOME: cachedHome, ALEXNET_WEIGHTS_URL: server.base } });
  const expected = noGrad(() => model.forward(Tensor.fromArray(x, [1, 3, 224, 224])).toArray());
  assertClose(readNpy(output).data as Float32Array, expected, { atol: 1e-6, rtol: 1e-5, name: 'logits' });
  assert.equal(server.requests.length, 0);
});

test('eval --weights torchvision goes through the same check (a name for another --arch is a usage error)', async () => {
  const r = await runCli(
    ['eval', '--weights', 'torchvision', '--arch', 'alexnet-2012', '--data', tmp, '--out', join(tmp, 'eval-out')],
    env(cachedHome),
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(lastLine(r.stderr), /^alexnet: --weights torchvision: .* are for --arch alexnet, not alexnet-2012$/);
});

test('train --pretrained torchvision: checked against --arch, then read from the cache', async () => {
  const fashion = tinyFashionMnist(8, 4);
  const args = (arch: string, out: string) => [
    'train',
    '--dataset',
    `fashion-mnist=${fashion}`,
    '--arch',
    arch,
    '--pretrained',
    'torchvision',
    '--out',
    out,
  ];
  const wrongArch = await runCli(args('alexnet-v1', join(tmp, 'run-v1')), env(cachedHome));
  assert.equal(wrongArch.code, 2, wrongArch.stderr);
  assert.match(lastLine(wrongArch.stderr), /^alexnet: --pretrained torchvision: .* are for --arch alexnet, not alexnet-v1$/);
  // The cached file is found and read: its 3-channel conv1 does not fit Fashion-MNIST's one channel.
  const read = await runCli(args('alexnet', join(tmp, 'run-1ch')), env(cachedHome));
  assert.equal(read.code, 1, read.stderr);
  assert.equal(lastLine(read.stderr), `alexnet: ${join(cachedDir, FILE)}: conv1 takes 3 input channels, this run has 1`);
  // Offline: the download fails before any run directory is made.
  const { home, dir } = emptyHome();
  const offline = await runCli(args('alexnet', join(tmp, 'run-offline')), env(home));
  assert.equal(offline.code, 1, offline.stderr);
  assert.match(lastLine(offline.stderr), /HTTP 404/);
  assert.ok(!existsSync(join(tmp, 'run-offline')));
  assert.deepEqual(listing(dir), []);
});

const sha256 = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

test('a good download of a whole AlexNet file lands in the cache, checked, and loads', async () => {
  const { home, dir } = emptyHome();
  const digest = await sha256(weights);
  const file = `alexnet-random-${digest.slice(0, 8)}.pth`;
  server.routes.set(`/${file}`, serveFile(weights));
  const path = await hubWeightsFile(
    { name: 'random', arch: 'alexnet', file, description: 'random AlexNet weights' },
    { env: env(home), progress: false, log: { write: () => true } as unknown as NodeJS.WriteStream },
  );
  assert.equal(path, join(dir, file));
  assert.deepEqual(listing(dir), [file]);
  assert.equal(await sha256(path), digest);
  const model = modelFromWeights(readWeightsFile(path), { source: path });
  assert.deepEqual([model.arch, model.numClasses], ['alexnet', 1000]);
});

test('offline (404): one line naming the address and the folder where to put the file, exit 1', async () => {
  const { home, dir } = emptyHome();
  const r = await runCli(['predict', cat, '--weights', 'torchvision'], env(home));
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    lastLine(r.stderr),
    `alexnet: cannot download ${server.base}${FILE} (HTTP 404 Not Found); ` +
      `without network access, copy ${FILE} (from that address) into ${dir}/`,
  );
  assert.deepEqual(listing(dir), []);
});

test('a wrong-hash file: exit 1 naming both prefixes, nothing in the cache', async () => {
  const { home, dir } = emptyHome();
  const junk = new Uint8Array(200_000).fill(7);
  const actual = createHash('sha256').update(junk).digest('hex').slice(0, 8);
  server.routes.set(`/${FILE}`, serveBytes(junk));
  try {
    const r = await runCli(['predict', cat, '--weights', 'torchvision'], env(home));
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      lastLine(r.stderr),
      new RegExp(`^alexnet: .*invalid hash value \\(expected "7be5be79", got "${actual}"\\).*nothing was kept$`),
    );
    assert.deepEqual(listing(dir), []);
  } finally {
    server.routes.delete(`/${FILE}`);
  }
});

test('Ctrl-C during a slow download: exit 130, no partial file', async () => {
  const { home, dir } = emptyHome();
  server.routes.set(`/${FILE}`, serveSlowly(100 << 20, 20));
  try {
    const r = await runCli(['predict', cat, '--weights', 'torchvision'], env(home), (child) => {
      // Interrupt once the partial file exists: the download is under way.
      const poll = setInterval(() => {
        if (listing(dir).length === 0) return;
        clearInterval(poll);
        child.kill('SIGINT');
      }, 20);
      child.on('exit', () => clearInterval(poll));
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stopped by SIGINT; nothing was kept/);
    assert.deepEqual(listing(dir), []);
  } finally {
    server.routes.delete(`/${FILE}`);
  }
});
