// Weights by name, in process: torch.hub's cache folder rules, the hash prefix of a file name,
// the download URL, and downloads from a local server — a good one lands in the cache (and is
// reused without a request), a redirect is followed, and a wrong hash, a dropped connection, a
// stalled one, a 404 and an unreachable server each give one clear DataError and leave nothing in
// the cache; a program that listens for SIGINT itself gets a rejected download, not an exit. With
// PyTorch installed, torch.hub agrees on the folder and the hash prefix, and loads a file
// downloaded here from its own cache. Small files stand in for the weights: the downloader does
// not read them (weights_hub_cli.test.ts loads a real AlexNet file).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DataError, UsageError } from '../src/errors.js';
import {
  hashPrefixOf,
  hubCheckpointsDir,
  hubWeightsFile,
  torchHubDir,
  weightsUrl,
  WEIGHTS_NAMES,
  type NamedWeights,
} from '../src/io/hub.js';
import { loadPretrained, resolveWeightsArg } from '../src/io/pretrained.js';
import { encodePth } from '../src/io/pth/index.js';
import { torchPython } from './train_helpers.js';
import { serveAndDrop, serveBytes, serveSlowly, startServer, type TestServer } from './weights_hub_server.js';

// Asked first: spawnSync blocks the event loop, which must not happen between requests to the test
// server (an idle keep-alive connection would time out on the server's side unseen).
const { python, reason } = torchPython();
const tmp = mkdtempSync(join(tmpdir(), 'alexnet-hub-'));
let server: TestServer;
before(async () => (server = await startServer()));
after(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A fresh TORCH_HOME and the environment that points the downloads at the test server. */
function freshHome(): { env: Record<string, string>; dir: string } {
  const home = mkdtempSync(join(tmp, 'torch-'));
  return { env: { TORCH_HOME: home, ALEXNET_WEIGHTS_URL: server.base }, dir: join(home, 'hub', 'checkpoints') };
}

/** Bytes and the table entry whose name carries their real hash prefix. */
function payload(size: number, seed: number): { bytes: Uint8Array; entry: NamedWeights } {
  const bytes = new Uint8Array(size).map((_, i) => (i * 31 + seed) & 0xff);
  const prefix = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
  return { bytes, entry: { name: 'test', arch: 'alexnet', file: `weights${seed}-${prefix}.bin`, description: 'test weights' } };
}

const quiet = { progress: false, log: { write: () => true } as unknown as NodeJS.WriteStream };
const listing = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

test('the cache folder follows torch.hub.get_dir(): TORCH_HOME, else XDG_CACHE_HOME/torch, else ~/.cache/torch', () => {
  assert.equal(torchHubDir({ TORCH_HOME: '/t', XDG_CACHE_HOME: '/x' }), '/t/hub');
  assert.equal(torchHubDir({ XDG_CACHE_HOME: '/x' }), '/x/torch/hub');
  assert.equal(torchHubDir({}), join(homedir(), '.cache/torch/hub'));
  assert.equal(torchHubDir({ TORCH_HOME: '~/th' }), join(homedir(), 'th/hub'));
  assert.equal(hubCheckpointsDir({ TORCH_HOME: '/t' }), '/t/hub/checkpoints');
});

test("the hash prefix is torch.hub's HASH_REGEX match", () => {
  assert.equal(hashPrefixOf('alexnet-owt-7be5be79.pth'), '7be5be79');
  assert.equal(hashPrefixOf('resnet18-f37072fd.pth'), 'f37072fd');
  assert.equal(hashPrefixOf('x-7be5-abc.tar.gz'), 'abc');
  assert.equal(hashPrefixOf('model.pth'), null);
  assert.equal(hashPrefixOf('model-OWT.pth'), null);
});

test("torchvision's name (and its alias) is alexnet-owt-7be5be79.pth from torchvision's folder, or from ALEXNET_WEIGHTS_URL", () => {
  const tv = WEIGHTS_NAMES.get('torchvision');
  assert.ok(tv && WEIGHTS_NAMES.get('IMAGENET1K_V1') === tv);
  assert.equal(weightsUrl(tv, {}), 'https://download.pytorch.org/models/alexnet-owt-7be5be79.pth');
  assert.equal(weightsUrl(tv, { ALEXNET_WEIGHTS_URL: 'http://mirror:8000/m' }), 'http://mirror:8000/m/alexnet-owt-7be5be79.pth');
  assert.equal(weightsUrl(tv, { ALEXNET_WEIGHTS_URL: 'http://mirror:8000/m/' }), 'http://mirror:8000/m/alexnet-owt-7be5be79.pth');
  assert.throws(
    () => weightsUrl(tv, { ALEXNET_WEIGHTS_URL: 'ftp://mirror/m/' }),
    (e) => e instanceof UsageError && /ALEXNET_WEIGHTS_URL/.test(e.message),
  );
});

test('a path stays a path; a name for another architecture is a usage error', async () => {
  assert.equal(await resolveWeightsArg('./torchvision', 'alexnet-v1'), './torchvision');
  assert.equal(await resolveWeightsArg('runs/a/model.pth', undefined), 'runs/a/model.pth');
  await assert.rejects(
    resolveWeightsArg('torchvision', 'alexnet-2012'),
    (e) => e instanceof UsageError && /--arch alexnet, not alexnet-2012/.test(e.message),
  );
  await assert.rejects(
    resolveWeightsArg('IMAGENET1K_V1', 'alexnet-v1', { option: '--pretrained' }),
    (e) => e instanceof UsageError && /^--pretrained IMAGENET1K_V1/.test(e.message),
  );
  await assert.rejects(loadPretrained('alexnet-v1'), UsageError);
  await assert.rejects(loadPretrained('alexnet', { weights: 'imagenet' }), UsageError);
  assert.equal(server.requests.length, 0);
});

test('a file already in the cache is used without a request', async () => {
  const { env, dir } = freshHome();
  const { entry } = payload(1000, 1);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, entry.file), 'cached');
  server.requests.length = 0;
  assert.equal(await hubWeightsFile(entry, { env, ...quiet }), join(dir, entry.file));
  assert.equal(server.requests.length, 0);
});

test('a good download lands in the cache, whole, and is reused the next time', async () => {
  const { env, dir } = freshHome();
  const { bytes, entry } = payload(3_000_000, 2);
  server.routes.set(`/${entry.file}`, serveBytes(bytes));
  server.requests.length = 0;
  const path = await hubWeightsFile(entry, { env, ...quiet });
  assert.equal(path, join(dir, entry.file));
  assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
  assert.deepEqual(listing(dir), [entry.file]);
  assert.equal(await hubWeightsFile(entry, { env, ...quiet }), path);
  assert.deepEqual(server.requests, [`/${entry.file}`]);
});

test('a redirect is followed', async () => {
  const { env, dir } = freshHome();
  const { bytes, entry } = payload(5000, 3);
  server.routes.set(`/${entry.file}`, (_req, res) => {
    res.writeHead(302, { location: '/elsewhere/file.bin' });
    res.end();
  });
  server.routes.set('/elsewhere/file.bin', serveBytes(bytes));
  const path = await hubWeightsFile(entry, { env, ...quiet });
  assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
  assert.deepEqual(listing(dir), [entry.file]);
});

test("a file whose SHA-256 does not start with the name's prefix is refused and not kept", async () => {
  const { env, dir } = freshHome();
  const { entry } = payload(5000, 4);
  const other = payload(5000, 5).bytes;
  const actual = createHash('sha256').update(other).digest('hex').slice(0, 8);
  server.routes.set(`/${entry.file}`, serveBytes(other));
  await assert.rejects(hubWeightsFile(entry, { env, ...quiet }), (e) => {
    assert.ok(e instanceof DataError);
    assert.match(e.message, new RegExp(`invalid hash value \\(expected "${hashPrefixOf(entry.file)}", got "${actual}"\\)`));
    return true;
  });
  assert.deepEqual(listing(dir), []);
});

test('a connection dropped mid-body is an error naming how far it got, and leaves no partial file', async () => {
  const { env, dir } = freshHome();
  const { entry } = payload(10, 6);
  server.routes.set(`/${entry.file}`, serveAndDrop(2_000_000, 300_000));
  await assert.rejects(hubWeightsFile(entry, { env, ...quiet }), (e) => {
    assert.ok(e instanceof DataError);
    assert.match(e.message, /connection lost after 0\.\d of 1\.9 MB.*nothing was kept/);
    return true;
  });
  assert.deepEqual(listing(dir), []);
});

test('a stalled connection times out and leaves no partial file', async () => {
  const { env, dir } = freshHome();
  const { entry } = payload(10, 7);
  server.routes.set(`/${entry.file}`, (_req, res) => {
    res.writeHead(200, { 'content-length': 1_000_000 });
    res.write(new Uint8Array(1000));
  });
  await assert.rejects(hubWeightsFile(entry, { env, ...quiet, stallTimeoutMs: 300 }), /no data for 0\.3 s.*nothing was kept/);
  assert.deepEqual(listing(dir), []);
});

test('a 404 or an unreachable server says where to put the file', async () => {
  const { env, dir } = freshHome();
  const { entry } = payload(10, 8);
  const offline = (e: unknown, why: RegExp): boolean => {
    assert.ok(e instanceof DataError);
    assert.match(e.message, why);
    assert.ok(e.message.includes(`copy ${entry.file} (from that address) into ${dir}/`), e.message);
    assert.ok(!e.message.includes('\n'));
    return true;
  };
  await assert.rejects(hubWeightsFile(entry, { env, ...quiet }), (e) => offline(e, /HTTP 404/));
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const down = { ...env, ALEXNET_WEIGHTS_URL: `http://127.0.0.1:${port}/models/` };
  await assert.rejects(hubWeightsFile(entry, { env: down, ...quiet }), (e) => offline(e, /ECONNREFUSED/));
  assert.deepEqual(listing(dir), []);
});

test('a TORCH_HOME that cannot hold the cache is named, with what to do', async () => {
  const notAFolder = join(tmp, 'plain-file');
  writeFileSync(notAFolder, 'x');
  const { entry } = payload(10, 10);
  await assert.rejects(hubWeightsFile(entry, { env: { TORCH_HOME: notAFolder }, ...quiet }), (e) => {
    assert.ok(e instanceof DataError);
    assert.equal(
      e.message,
      `${notAFolder}/hub/checkpoints: cannot create torch.hub's checkpoints folder (ENOTDIR); set TORCH_HOME to a folder you can write`,
    );
    return true;
  });
});

test('a program that listens for SIGINT itself gets a rejected download, and no partial file', async () => {
  const { env, dir } = freshHome();
  const { entry } = payload(10, 9);
  server.routes.set(`/${entry.file}`, serveSlowly(50 << 20, 20));
  const own = (): void => {};
  process.on('SIGINT', own);
  try {
    const download = hubWeightsFile(entry, { env, ...quiet });
    while (listing(dir).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    process.kill(process.pid, 'SIGINT');
    await assert.rejects(download, (e) => e instanceof DataError && /stopped by SIGINT.*nothing was kept/.test(e.message));
    assert.deepEqual(listing(dir), []);
    assert.equal(process.listenerCount('SIGINT'), 1);
  } finally {
    process.off('SIGINT', own);
  }
});

test('torch.hub agrees: the same folder and hash prefixes, and it loads a file downloaded here from its cache', async (t) => {
  if (!python) return t.skip(reason);
  const { env, dir } = freshHome();
  const bytes = Buffer.concat(encodePth(new Map([['w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }]])));
  const file = `tiny-${createHash('sha256').update(bytes).digest('hex').slice(0, 10)}.pth`;
  server.routes.set(`/${file}`, serveBytes(bytes));
  const entry: NamedWeights = { name: 'tiny', arch: 'alexnet', file, description: 'a tiny state dict' };
  assert.equal(await hubWeightsFile(entry, { env, ...quiet }), join(dir, file));
  const envs = [{ TORCH_HOME: '/t', XDG_CACHE_HOME: '/x' }, { XDG_CACHE_HOME: '/x' }, {}, { TORCH_HOME: '~/th' }];
  const names = ['alexnet-owt-7be5be79.pth', 'x-7be5-abc.tar.gz', 'model.pth', 'a-.pth', file];
  const script = [
    'import json, os, sys, torch.hub',
    'envs, names, home, url = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]',
    'dirs = []',
    'for e in envs:',
    '    for k in ("TORCH_HOME", "XDG_CACHE_HOME"): os.environ.pop(k, None)',
    '    os.environ.update(e)',
    '    dirs.append(torch.hub.get_dir())',
    'prefixes = [m.group(1) if m else None for m in map(torch.hub.HASH_REGEX.search, names)]',
    'os.environ["TORCH_HOME"] = home',
    // Nothing listens at port 9: the state dict can only come from the cache.
    'sd = torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True)',
    'print(json.dumps({"dirs": dirs, "prefixes": prefixes, "w": sd["w"].flatten().tolist()}))',
  ].join('\n');
  const r = spawnSync(python, ['-c', script, JSON.stringify(envs), JSON.stringify(names), env.TORCH_HOME!, `http://127.0.0.1:9/${file}`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const torch = JSON.parse(r.stdout) as { dirs: string[]; prefixes: (string | null)[]; w: number[] };
  assert.deepEqual(
    torch.dirs,
    envs.map((e) => torchHubDir(e)),
  );
  assert.deepEqual(torch.prefixes, names.map(hashPrefixOf));
  assert.deepEqual(torch.w, [1, 2, 3, 4, 5, 6.5]);
});
