// Names for a model's outputs: ImageNet's 1000 (data/imagenet_classes.json, served at /data/),
// Fashion-MNIST's ten for a 10-class model, else the indices.
import { FASHION_MNIST_CLASSES } from '../data/idx_format.js';

let imagenet: Promise<string[]> | null = null;

async function imagenetClasses(): Promise<string[]> {
  imagenet ??= fetch('/data/imagenet_classes.json')
    .then((r) => r.json() as Promise<{ classes: string[] }>)
    .then((j) => j.classes);
  return imagenet;
}

export async function classNames(numClasses: number): Promise<string[]> {
  if (numClasses === 1000) return imagenetClasses();
  if (numClasses === 10) return [...FASHION_MNIST_CLASSES];
  return Array.from({ length: numClasses }, (_, i) => String(i));
}
