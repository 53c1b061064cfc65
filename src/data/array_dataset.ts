// Datasets held as arrays: ArrayDataset over in-memory images (uint8 NHWC / NHW, or float32
// NCHW already in tensor form) with integer labels, and NpyDataset reading the two arrays
// from .npy files (numpy's np.save of x and y).
import { DataError } from '../errors.js';
import { readNpy, type NpyArray } from '../io/npy.js';
import { sampleEntry, type Dataset, type DatasetSpec } from './dataset.js';
import { floatImage, u8Image, type Pixels } from './image.js';

export interface ArrayDatasetInit {
  /** uint8 images [N, H, W] or [N, H, W, C] (layout NHWC), or float32 [N, C, H, W] (layout NCHW). */
  x: Uint8Array | Float32Array;
  shape: number[];
  y: Int32Array;
  classes?: string[];
  /** For messages: where the arrays came from. */
  name?: string;
}

export class ArrayDataset implements Dataset {
  readonly length: number;
  readonly classes: string[];
  readonly layout: 'NHWC' | 'NCHW';
  private readonly sampleSize: number;
  private readonly dims: { c: number; h: number; w: number };
  protected readonly name: string;
  private readonly x: Uint8Array | Float32Array;
  private readonly shape: number[];
  private readonly y: Int32Array;

  constructor(init: ArrayDatasetInit) {
    const { x, shape, y } = init;
    this.name = init.name ?? '<arrays>';
    this.x = x;
    this.shape = shape;
    this.y = y;
    if (x instanceof Uint8Array) {
      if (shape.length !== 3 && shape.length !== 4)
        throw new DataError(`${this.name}: uint8 images must be [N, H, W] or [N, H, W, C], got [${shape.join(', ')}]`);
      this.layout = 'NHWC';
      const [, h = 0, w = 0, c = 1] = shape;
      this.dims = { h, w, c };
    } else {
      if (shape.length !== 4) throw new DataError(`${this.name}: float32 images must be [N, C, H, W], got [${shape.join(', ')}]`);
      this.layout = 'NCHW';
      const [, c = 0, h = 0, w = 0] = shape;
      this.dims = { c, h, w };
    }
    this.length = shape[0] ?? 0;
    this.sampleSize = this.dims.c * this.dims.h * this.dims.w;
    if (this.sampleSize === 0) throw new DataError(`${this.name}: images of shape [${shape.join(', ')}] hold no pixels`);
    if (x.length !== this.length * this.sampleSize) throw new DataError(`${this.name}: ${x.length} values for shape [${shape.join(', ')}]`);
    if (y.length !== this.length) throw new DataError(`${this.name}: ${y.length} labels for ${this.length} images`);
    let maxLabel = -1;
    for (const l of y) {
      if (l < 0) throw new DataError(`${this.name}: negative label ${l}`);
      maxLabel = Math.max(maxLabel, l);
    }
    this.classes = init.classes ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
    if (maxLabel >= this.classes.length) throw new DataError(`${this.name}: label ${maxLabel} but only ${this.classes.length} classes`);
  }

  label(index: number): number {
    return sampleEntry(this.y, index, this.name);
  }

  sourceOf(index: number): string {
    return `${this.name}#${index}`;
  }

  load(index: number): Pixels {
    const { c, h, w } = this.dims;
    const n = this.sampleSize;
    if (this.x instanceof Uint8Array) return u8Image(this.x.slice(index * n, (index + 1) * n), w, h, c);
    return floatImage(this.x.slice(index * n, (index + 1) * n), c, h, w);
  }

  spec(): DatasetSpec {
    return { kind: 'arrays', x: this.x, shape: this.shape, layout: this.layout, y: this.y, classes: this.classes };
  }
}

function labelsFrom(arr: NpyArray, path: string): Int32Array {
  if (arr.shape.length !== 1) throw new DataError(`${path}: labels must be 1-D, got [${arr.shape.join(', ')}]`);
  switch (arr.dtype) {
    case 'int32':
      return arr.data;
    case 'int64':
      return Int32Array.from(arr.data, (v) => Number(v));
    case 'uint8':
      return Int32Array.from(arr.data);
    default:
      throw new DataError(`${path}: labels must be integers, got ${arr.dtype}`);
  }
}

/** x.npy (uint8 NHW/NHWC or float32 NCHW; float64 is narrowed to float32) and y.npy (integers). */
export class NpyDataset extends ArrayDataset {
  readonly xPath: string;
  readonly yPath: string;

  constructor(xPath: string, yPath: string, classes?: string[]) {
    super(readArrays(xPath, yPath, classes));
    this.xPath = xPath;
    this.yPath = yPath;
  }

  override spec(): DatasetSpec {
    return { kind: 'npy', x: this.xPath, y: this.yPath, classes: this.classes };
  }
}

function readArrays(xPath: string, yPath: string, classes?: string[]): ArrayDatasetInit {
  const x = readNpy(xPath);
  const y = readNpy(yPath);
  let data: Uint8Array | Float32Array;
  if (x.dtype === 'uint8' || x.dtype === 'float32') data = x.data;
  else if (x.dtype === 'float64') data = Float32Array.from(x.data);
  else throw new DataError(`${xPath}: images must be uint8 or float, got ${x.dtype}`);
  return { x: data, shape: x.shape, y: labelsFrom(y, yPath), classes, name: xPath };
}
