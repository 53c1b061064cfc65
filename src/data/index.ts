// The data pipeline, everything exported from one place.
//
// Datasets (all implement Dataset: length, classes, label(i), sourceOf(i), load(i), spec()):
//   ImageFolder.open(root, {channels, autoOrient, broken})   root/<class>/**/<image>, torchvision order
//   IdxDataset(images, labels) / IdxDataset.fashionMnist('train' | 'test')   MNIST-format files
//   NpyDataset(x.npy, y.npy), ArrayDataset({x, shape, y})      arrays (uint8 NHWC or float32 NCHW)
//   PreparedDataset(file)                                       made by `alexnet prepare`
// Transforms are plain data (T.resize(256), T.centerCrop(224), …, torchvisionPreset('eval'),
// paperPreset('train', {size: 227, meanImage})) applied per sample with a seeded Generator.
// DataLoader(dataset, {batchSize, shuffle, seed, dropLast, transforms, workers, prefetch, strict, signal})
//   .iterate(epoch, startBatch?) → AsyncGenerator<Batch>: x Float32Array [N, C, H, W] (TenCrop:
//   [N, 10, C, H, W]), shape, y Int32Array [N], indices, epoch, batch, skipped, release()
//   .state() → {epoch, batch} to resume; .numBatches; .broken.summary(); await .close()
// A training loop: for await (const b of loader.iterate(epoch, start)) { x = Tensor.fromArray(b.x,
// b.shape); b.release(); … } — release() lets the loader refill the same memory (optional).
// N can be below batchSize when broken files were skipped (strict: the first is a DataError).
// Same seed → same order and augmentations for any worker count; iterate(state.epoch, state.batch)
// resumes exactly. A leading Resize/RandomResizedCrop runs inside the decoder: JPEGs through
// libjpeg-turbo, decoding only the crop (PIL's pixels exactly); other files through sharp, where
// resampler 'libvips' trades Pillow's exact arithmetic for speed.
export type { Dataset, DatasetSpec } from './dataset.js';
export { ImageFolder, IMG_EXTENSIONS, findClasses, type ImageFolderOptions } from './image_folder.js';
export { IdxDataset, readIdx, parseIdx, FASHION_MNIST_CLASSES, DEBIAN_FASHION_MNIST_DIR, type IdxArray } from './idx.js';
export { ArrayDataset, NpyDataset, type ArrayDatasetInit } from './array_dataset.js';
export { PreparedDataset, PreparedWriter, readPreparedHeader, type PreparedHeader } from './prepared.js';
export { openDataset } from './open_dataset.js';
export {
  decodeImage,
  decodeImageFile,
  sniffFormat,
  BadImageError,
  DEFAULT_MAX_PIXELS,
  SHRINK_ON_LOAD_PIXELS,
  dctShrink,
  type DecodeOptions,
  type BadInputKind,
  type RegionPicker,
} from './decode.js';
export {
  crop,
  flipHorizontal,
  rgbToGray,
  grayToChannels,
  toFloat,
  u8Image,
  floatImage,
  roundHalfEven,
  type U8Image,
  type FloatImage,
  type Pixels,
  type Box,
} from './image.js';
export { resizeBilinear, shorterSideSize } from './resample.js';
export {
  T,
  applyTransforms,
  randomResizedCropBox,
  cropBox,
  centerBox,
  resizeTarget,
  hw,
  IMAGENET_MEAN,
  IMAGENET_STD,
  IMAGENET_PCA_EIGVAL,
  IMAGENET_PCA_EIGVEC,
  type TransformSpec,
  type Size,
} from './transforms.js';
export { torchvisionPreset, paperPreset, inputSizeFor, type TorchvisionPresetOptions, type PaperPresetOptions } from './presets.js';
export {
  computeMeanImage,
  saveMeanImage,
  loadMeanImage,
  meanImageCached,
  computeRgbPca,
  symmetricEigen3,
  type MeanImage,
  type RgbPca,
  type StatisticsOptions,
} from './statistics.js';
export { BrokenInputLog, type BrokenInput, type BrokenInputOptions } from './broken_inputs.js';
export { maxWorkers, workersProblem } from './worker_limit.js';
export { DataLoader, type DataLoaderOptions, type Batch, type RawBatch, type LoaderState } from './loader.js';
export { processBatch, type BatchResult, type SampleFailure } from './batch.js';
export { hashSeed, sampleGenerator, epochOrder } from './seeds.js';
export { prepareDataset, type PrepareOptions, type PrepareReport } from './prepare.js';
