// ImageFolder: root/<class>/**/<image>, as torchvision.datasets.ImageFolder lists it — class
// folders sorted by name give the label indices (classToIdx), files are found by walking each
// class folder (following links that stay inside it) in sorted order and kept when their extension is one of
// torchvision's IMG_EXTENSIONS (case-insensitive). Decoding happens in load(), through sharp.
// Unlike torchvision, an empty class folder is not fatal by default: it keeps its index (so
// labels stay those torchvision would give) and is reported through the broken-input policy.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DataError } from '../errors.js';
import { decodeImageFile, type DecodeOptions, type RegionPicker } from './decode.js';
import type { BrokenInputLog } from './broken_inputs.js';
import { sampleEntry, type Dataset, type DatasetSpec } from './dataset.js';
import type { U8Image } from './image.js';

/** torchvision.datasets.folder.IMG_EXTENSIONS. */
export const IMG_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

export interface ImageFolderOptions extends DecodeOptions {
  /** Receives empty class folders (and, later, the loader's skipped files). */
  broken?: BrokenInputLog;
  extensions?: string[];
}

/** Sorted names of the sub-folders of `root` (torchvision's find_classes). */
export function findClasses(root: string): string[] {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new DataError(`${root}: cannot list the dataset folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const classes: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() || (e.isSymbolicLink() && isDir(join(root, e.name)))) classes.push(e.name);
  }
  return classes.sort(byCodePoint);
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * os.walk(dir, followlinks=True), sorted by folder path, files sorted within each folder — except
 * that a link to a folder is followed only when it leads inside `dir` (a link to '..' would pull
 * other classes' images in, a link to '.' or an ancestor loops), and each folder is visited once.
 * Links to files are kept wherever they point.
 */
function walkFiles(dir: string, keep: (name: string) => boolean): string[] {
  const groups: [string, string[]][] = [];
  let base: string;
  try {
    base = realpathSync(dir);
  } catch {
    return [];
  }
  const visited = new Set<string>();
  const visit = (d: string): void => {
    let real: string;
    try {
      real = realpathSync(d);
    } catch {
      return;
    }
    if (visited.has(real) || (real !== base && !real.startsWith(base + sep))) return;
    visited.add(real);
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    const files: string[] = [];
    // Sorted, so that a folder reached both directly and through a link is named the same way every time.
    for (const e of entries.sort((a, b) => byCodePoint(a.name, b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory() || (e.isSymbolicLink() && isDir(p))) visit(p);
      else if (keep(e.name)) files.push(e.name);
    }
    groups.push([d, files.sort(byCodePoint)]);
  };
  visit(dir);
  groups.sort((a, b) => byCodePoint(a[0], b[0]));
  return groups.flatMap(([d, files]) => files.map((f) => join(d, f)));
}

export class ImageFolder implements Dataset {
  readonly classToIdx: Record<string, number>;
  /** Class folders with no image in them. */
  readonly emptyClasses: string[];

  private constructor(
    readonly root: string,
    readonly classes: string[],
    readonly files: string[],
    readonly labels: Int32Array,
    readonly decode: DecodeOptions,
    emptyClasses: string[],
  ) {
    this.classToIdx = Object.fromEntries(classes.map((c, i) => [c, i]));
    this.emptyClasses = emptyClasses;
  }

  /** Lists `root`. Throws DataError when it has no class folder or no image at all. */
  static open(root: string, options: ImageFolderOptions = {}): ImageFolder {
    const exts = (options.extensions ?? IMG_EXTENSIONS).map((e) => e.toLowerCase());
    const keep = (name: string): boolean => exts.some((e) => name.toLowerCase().endsWith(e));
    const classes = findClasses(root);
    if (classes.length === 0) throw new DataError(`${root}: no class folders (expected ${root}/<class>/<image>)`);
    const files: string[] = [];
    const labels: number[] = [];
    const empty: string[] = [];
    classes.forEach((cls, label) => {
      const found = walkFiles(join(root, cls), keep);
      if (found.length === 0) empty.push(cls);
      for (const f of found) {
        files.push(f);
        labels.push(label);
      }
    });
    for (const cls of empty) {
      const path = join(root, cls);
      const message = `${path}: empty-class: no ${exts.join('/')} file in class folder '${cls}'`;
      if (options.broken) options.broken.report({ path, kind: 'empty-class', message });
      else throw new DataError(message);
    }
    if (files.length === 0) throw new DataError(`${root}: no images found in ${classes.length} class folders`);
    const decode: DecodeOptions = { channels: options.channels, autoOrient: options.autoOrient, maxPixels: options.maxPixels };
    return new ImageFolder(root, classes, files, Int32Array.from(labels), decode, empty);
  }

  /** Rebuilds from a spec (in a worker) without listing the folder again. */
  static fromSpec(spec: Extract<DatasetSpec, { kind: 'imageFolder' }>): ImageFolder {
    return new ImageFolder(spec.root, spec.classes, spec.files, spec.labels, spec.decode, []);
  }

  get length(): number {
    return this.files.length;
  }

  label(index: number): number {
    return sampleEntry(this.labels, index, this.root);
  }

  sourceOf(index: number): string {
    return sampleEntry(this.files, index, this.root);
  }

  load(index: number): Promise<U8Image> {
    return decodeImageFile(this.sourceOf(index), this.decode);
  }

  loadResizedCrop(index: number, pick: RegionPicker): Promise<U8Image> {
    return decodeImageFile(this.sourceOf(index), this.decode, pick);
  }

  spec(): DatasetSpec {
    return { kind: 'imageFolder', root: this.root, files: this.files, labels: this.labels, classes: this.classes, decode: this.decode };
  }
}
