// `alexnet web` as a user runs it: it prints its URL, sends the cross-origin isolation headers on
// every response (the page, samples, data), serves only what it means to (no path leaves its
// folders), says plainly when the Fashion-MNIST files are missing, refuses a bad or busy port in
// one line (exit 2), and Ctrl-C or SIGTERM stop it with exit 130.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startWebCli, type WebServer } from './browser_helpers.js';
import { root, tempDir, tinyFashionMnist } from './train_helpers.js';

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

function assertIsolated(res: Response, what: string): void {
  for (const [k, v] of Object.entries(ISOLATION)) assert.equal(res.headers.get(k), v, `${what}: ${k}`);
}

/** GET with the path sent as written (fetch would normalise the dots away). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    get({ host: hostname, port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('alexnet web', () => {
  let server: WebServer;
  before(async () => {
    server = await startWebCli(['--data', tinyFashionMnist(20, 10)]);
  });
  after(async () => {
    await server?.stop();
  });

  test('serves the page, samples, class names and IDX files with COOP/COEP/CORP headers', async () => {
    for (const [path, type] of [
      ['', /text\/(html|plain)/],
      ['samples/cat.jpg', /image\/jpeg/],
      ['data/imagenet_classes.json', /application\/json/],
      ['fashion-mnist/train-labels-idx1-ubyte.gz', /application\/octet-stream/],
    ] as const) {
      const res = await fetch(server.url + path);
      assert.ok(res.status === 200 || (path === '' && res.status === 503), `${path}: ${res.status}`);
      assert.match(res.headers.get('content-type') ?? '', type, path);
      assertIsolated(res, path || '/');
      await res.arrayBuffer();
    }
    const classes = (await (await fetch(server.url + 'data/imagenet_classes.json')).json()) as { classes: string[] };
    assert.equal(classes.classes.length, 1000);
  });

  test('no request reaches a file outside the folders it serves', async () => {
    for (const path of [
      'samples/../package.json',
      'samples/%2e%2e/package.json',
      'samples/..%2f..%2fpackage.json',
      'samples/%2e%2e%2f%2e%2e%2fpackage.json',
      'samples/README.md',
      'fashion-mnist/..%2f..%2fpackage.json',
      'fashion-mnist/%2e%2e',
      'data/..%2fpackage.json',
      '..%2fpackage.json',
      '%2e%2e/%2e%2e/etc/passwd',
    ]) {
      const { status, body } = await rawGet(server.url, '/' + path);
      assert.ok(status >= 400 && status < 500, `${path}: ${status}`);
      assert.doesNotMatch(body, /"name": "alexnet"|root:x:0|# Sample images/, path);
    }
  });

  test('missing Fashion-MNIST files give a message naming the folder and --data', async () => {
    const empty = tempDir('web-nodata');
    const other = await startWebCli(['--data', empty]);
    try {
      const res = await fetch(other.url + 'fashion-mnist/train-images-idx3-ubyte.gz');
      assert.equal(res.status, 404);
      assertIsolated(res, 'the 404');
      const text = await res.text();
      assert.ok(text.includes(empty) && text.includes('--data DIR'), text);
    } finally {
      assert.equal(await other.stop('SIGTERM'), 130);
    }
  });

  test('Ctrl-C stops it with exit 130', async () => {
    const other = await startWebCli();
    assert.equal(await other.stop('SIGINT'), 130);
  });

  test('a bad or busy port is a one-line usage error (exit 2)', async () => {
    const bad = spawnSync(process.execPath, [join(root, 'bin', 'alexnet.js'), 'web', '--port', '70000'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^alexnet: .*--port.*70000.*\n$/);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const res = spawnSync(process.execPath, [join(root, 'bin', 'alexnet.js'), 'web', '--port', String(port)], { encoding: 'utf8' });
      assert.equal(res.status, 2, res.stderr);
      assert.equal(res.stderr, `alexnet: --port ${port}: the address 127.0.0.1:${port} is in use\n`);
    } finally {
      busy.close();
    }
  });
});
