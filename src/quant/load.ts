// Quantized model files on Node: telling one from f32 weights by its header alone, reading it into
// an Int8AlexNet (the int8 network built once, on the native engine where the addon loads), and
// writing one atomically. `loadModelFile` is what predict, eval, serve and the library call: a
// quantized file gives the int8 model, anything else the f32 model as before.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { getBackend } from '../backend/registry.js';
import { DataError, UsageError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/write_atomic.js';
import { createModel, type AlexNet, type ArchName } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { modelFromWeights, type ModelInfo } from '../train/weights.js';
import type { MeanImage } from '../data/index.js';
import { parseModelInfo } from '../train/model_json.js';
import { isQuantizedHeader, MAX_QUANTIZED_HEADER, quantizedTensors, readQuantized, type ModelInfoParser } from './format.js';
import { createInt8Engine } from './int8_engine.js';
import { Int8AlexNet } from './int8_model.js';
import { exportQdqOnnx } from './onnx_qdq.js';
import { toSpec, type QuantizedModel } from './quantize.js';

/** Whether `path` is a safetensors file whose metadata says it holds a quantized model (reads the header only). */
export function isQuantizedFile(path: string): boolean {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const prefix = Buffer.alloc(8);
    if (readSync(fd, prefix, 0, 8, 0) !== 8) return false;
    const len = prefix.readBigUInt64LE(0);
    if (len > BigInt(MAX_QUANTIZED_HEADER)) return false;
    const start = Buffer.alloc(8 + Number(len));
    return readSync(fd, start, 0, start.length, 0) === start.length && isQuantizedHeader(start);
  } catch {
    return false; // not readable as a quantized model: the f32 readers say what is wrong with it
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** model.json's parser, relative paths (a mean image) resolved beside `path`. */
function infoParser(path: string): ModelInfoParser {
  return (json, where) => parseModelInfo(json, where, dirname(path));
}

function disposeParameters(model: AlexNet): void {
  for (const [, p] of model.namedParameters()) p.dispose();
}

/** Reads a quantized model file, checked (a DataError names the file and what is wrong). */
export function readQuantizedFile(path: string): QuantizedModel {
  const { q, model } = readQuantized(readSafetensors(path), path, infoParser(path));
  disposeParameters(model);
  return q;
}

/**
 * An Int8AlexNet for a quantized model: its int8 network built once, on the native engine unless
 * the current backend is the reference one (or `engine` says 'reference').
 */
export function int8Model(q: QuantizedModel, engine?: 'native' | 'reference', structure?: AlexNet): Int8AlexNet {
  const net =
    structure ?? createModel(q.arch, { numClasses: q.numClasses, inChannels: q.inChannels, inputSize: q.inputSize, init: 'none' });
  let spec;
  try {
    spec = toSpec(q, net);
  } finally {
    disposeParameters(net);
  }
  const which = engine ?? (getBackend().name === 'reference' ? 'reference' : 'native');
  const shape: [number, number, number] = [q.inChannels, q.inputSize, q.inputSize];
  return new Int8AlexNet(q.arch, shape, q.numClasses, createInt8Engine(spec, which), q.calibrator);
}

/** Writes `q` to `path` atomically. */
export function writeQuantizedFile(path: string, q: QuantizedModel): void {
  const { tensors, metadata } = quantizedTensors(q);
  writeSafetensors(path, tensors, metadata);
}

export interface LoadedModel {
  model: Module;
  info: ModelInfo;
  meanImage?: MeanImage;
  /** The quantized model, when the file held one. */
  quantized?: QuantizedModel;
}

/**
 * The model in a weights file: an Int8AlexNet for a quantized model (`arch`, when given, must
 * match it), else the f32 model (modelFromWeights).
 */
export function loadModelFile(path: string, arch?: ArchName): LoadedModel {
  if (!isQuantizedFile(path)) return modelFromWeights(path, arch);
  const { q, model: structure } = readQuantized(readSafetensors(path), path, infoParser(path));
  if (arch && arch !== q.arch) {
    disposeParameters(structure);
    throw new UsageError(`--arch ${arch} does not match ${path}, which holds a quantized ${q.arch}`);
  }
  return { model: int8Model(q, undefined, structure), info: q.info, quantized: q };
}

/** A quantized model file's model, or a DataError when `path` holds f32 weights (where int8 is expected). */
export function loadInt8File(path: string): { model: Int8AlexNet; quantized: QuantizedModel } {
  if (!existsSync(path)) throw new DataError(`${path}: no such quantized model file`);
  if (!isQuantizedFile(path))
    throw new DataError(
      `${path}: not a quantized model (f32 weights or another file): make one with alexnet quantize --weights ${path} --calibrate DATA --out M`,
    );
  const { q, model: structure } = readQuantized(readSafetensors(path), path, infoParser(path));
  return { model: int8Model(q, undefined, structure), quantized: q };
}

/** Writes a quantized model file as a QDQ ONNX model, atomically. */
export function writeQdqOnnxFile(input: string, output: string): void {
  const { q, model: structure } = readQuantized(readSafetensors(input), input, infoParser(input));
  try {
    writeFileAtomic(output, exportQdqOnnx(q, structure));
  } finally {
    disposeParameters(structure);
  }
}
