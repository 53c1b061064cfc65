// The Train tab's data: Fashion-MNIST's training images and labels, fetched from the server's
// /fashion-mnist/ route (the IDX files, gzipped), unpacked with the browser's DecompressionStream
// and parsed by the library's IDX reader. A missing file gives the server's own message.
import { parseIdx } from '../../data/idx_format.js';
import { DataError } from '../../errors.js';

async function fetchIdx(name: string): Promise<Uint8Array> {
  const res = await fetch(`/fashion-mnist/${name}`);
  if (!res.ok || !res.body) throw new DataError((await res.text()).trim() || `${name}: HTTP ${res.status}`);
  const raw = await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  const idx = parseIdx(new Uint8Array(raw), name);
  if (idx.dtype !== 'uint8') throw new DataError(`${name}: expected uint8 values, got ${idx.dtype}`);
  return idx.data;
}

/** The training split: images [N, 28, 28] and labels [N] as uint8. */
export async function loadFashionMnist(): Promise<{ images: Uint8Array; labels: Uint8Array }> {
  const [images, labels] = await Promise.all([fetchIdx('train-images-idx3-ubyte.gz'), fetchIdx('train-labels-idx1-ubyte.gz')]);
  return { images, labels };
}
