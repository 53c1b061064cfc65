// loadWeights/saveWeights on nn modules: a torch checkpoint (state dict under 'state_dict')
// loads into the same PyTorch-named layers, round trips through .pth and .safetensors, the
// 'module.' prefix of DataParallel files is removed, and key/shape errors name file and key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { DataError } from '../src/errors.js';
import { writePth } from '../src/io/pth/index.js';
import { detectWeightsFormat, loadWeights, saveWeights, stateDictArrays } from '../src/io/weights.js';
import { ReLU } from '../src/nn/activation.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';

setBackend(referenceBackend());
const dir = fileURLToPath(new URL('../../test/fixtures/io/pth/', import.meta.url));
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8')) as {
  checkpoint: Record<string, { shape: number[]; data: number[] }>;
};

/** The fixture's torch model: nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2)). */
const tiny = (hidden = 2): Sequential => new Sequential(new Linear(3, hidden), new ReLU(), new Linear(hidden, 2));

function assertWeights(model: Sequential): void {
  for (const [k, t] of model.stateDict()) assert.deepEqual(Array.from(t.toArray()), expected.checkpoint[k]?.data, k);
}

test('a torch checkpoint loads into the same layers (zip and nested legacy)', () => {
  for (const file of ['checkpoint_zip.pth', 'checkpoint_nested_legacy.pth']) {
    const model = tiny();
    loadWeights(model, dir + file);
    assertWeights(model);
  }
});

test('save and load round trip in both formats; formats detected by content', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'alexnet-weights-'));
  try {
    const src = tiny();
    loadWeights(src, dir + 'checkpoint_zip.pth');
    for (const name of ['w.pth', 'w.safetensors', 'w.pt']) {
      saveWeights(src, join(tmp, name));
      const back = tiny();
      loadWeights(back, join(tmp, name));
      assertWeights(back);
    }
    assert.equal(detectWeightsFormat(join(tmp, 'w.safetensors')), 'safetensors');
    // A safetensors file under a .pth name is still read as safetensors.
    writeFileSync(join(tmp, 'renamed.pth'), readFileSync(join(tmp, 'w.safetensors')));
    assert.equal(detectWeightsFormat(join(tmp, 'renamed.pth')), 'safetensors');
    // DataParallel prefix
    const prefixed = new Map([...stateDictArrays(src)].map(([k, v]) => [`module.${k}`, v]));
    writePth(join(tmp, 'dp.pth'), prefixed);
    const dp = tiny();
    loadWeights(dp, join(tmp, 'dp.pth'));
    assertWeights(dp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('wrong shapes, missing and unexpected keys name the file and the key', () => {
  const file = dir + 'checkpoint_zip.pth';
  assert.throws(
    () => loadWeights(tiny(3), file),
    (e: Error) =>
      e instanceof DataError && e.message.includes(file) && /'0\.weight' has shape \[2, 3\], the model expects \[3, 3\]/.test(e.message),
  );
  const bigger = new Sequential(new Linear(3, 2), new ReLU(), new Linear(2, 2), new ReLU(), new Linear(2, 2));
  assert.throws(
    () => loadWeights(bigger, file),
    (e: Error) => e instanceof DataError && e.message.includes(file) && /missing key '4\.weight'/.test(e.message),
  );
  const smaller = new Sequential(new Linear(3, 2));
  assert.throws(
    () => loadWeights(smaller, file),
    (e: Error) => e instanceof DataError && e.message.includes(file) && /unexpected key '2\.weight'/.test(e.message),
  );
  assert.throws(
    () => loadWeights(tiny(), dir + 'nope.pth'),
    (e: Error) => e instanceof DataError && /nope\.pth: cannot read/.test(e.message),
  );
});
