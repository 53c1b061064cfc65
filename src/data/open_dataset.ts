// Rebuilds a Dataset from its plain-data spec (used by worker threads).
import { ArrayDataset, NpyDataset } from './array_dataset.js';
import type { Dataset, DatasetSpec } from './dataset.js';
import { IdxDataset } from './idx.js';
import { ImageFolder } from './image_folder.js';
import { PreparedDataset } from './prepared.js';

export function openDataset(spec: DatasetSpec): Dataset {
  switch (spec.kind) {
    case 'imageFolder':
      return ImageFolder.fromSpec(spec);
    case 'idx':
      return new IdxDataset(spec.images, spec.labels, spec.classes);
    case 'npy':
      return new NpyDataset(spec.x, spec.y, spec.classes);
    case 'arrays':
      return new ArrayDataset({ x: spec.x, shape: spec.shape, y: spec.y, classes: spec.classes });
    case 'prepared':
      return new PreparedDataset(spec.path);
  }
}
