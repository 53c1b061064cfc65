// The convolution layers of the AlexNets (input channels, spatial size, output channels, kernel,
// stride, padding, groups), for the per-layer benchmarks.
export interface ConvLayer {
  name: string;
  c: number;
  hw: number;
  oc: number;
  k: number;
  s: number;
  p: number;
  g: number;
}

export const CONV_LAYERS: Record<string, ConvLayer[]> = {
  alexnet: [
    { name: 'conv1', c: 3, hw: 224, oc: 64, k: 11, s: 4, p: 2, g: 1 },
    { name: 'conv2', c: 64, hw: 27, oc: 192, k: 5, s: 1, p: 2, g: 1 },
    { name: 'conv3', c: 192, hw: 13, oc: 384, k: 3, s: 1, p: 1, g: 1 },
    { name: 'conv4', c: 384, hw: 13, oc: 256, k: 3, s: 1, p: 1, g: 1 },
    { name: 'conv5', c: 256, hw: 13, oc: 256, k: 3, s: 1, p: 1, g: 1 },
  ],
  'alexnet-v1': [
    { name: 'conv1', c: 3, hw: 227, oc: 96, k: 11, s: 4, p: 1, g: 1 },
    { name: 'conv2', c: 96, hw: 27, oc: 256, k: 5, s: 1, p: 2, g: 1 },
    { name: 'conv3', c: 256, hw: 13, oc: 384, k: 3, s: 1, p: 1, g: 1 },
    { name: 'conv4', c: 384, hw: 13, oc: 384, k: 3, s: 1, p: 1, g: 1 },
    { name: 'conv5', c: 384, hw: 13, oc: 256, k: 3, s: 1, p: 1, g: 1 },
  ],
  'alexnet-2012': [
    { name: 'conv1', c: 3, hw: 227, oc: 96, k: 11, s: 4, p: 0, g: 1 },
    { name: 'conv2', c: 96, hw: 27, oc: 256, k: 5, s: 1, p: 2, g: 2 },
    { name: 'conv3', c: 256, hw: 13, oc: 384, k: 3, s: 1, p: 1, g: 1 },
    { name: 'conv4', c: 384, hw: 13, oc: 384, k: 3, s: 1, p: 1, g: 2 },
    { name: 'conv5', c: 384, hw: 13, oc: 256, k: 3, s: 1, p: 1, g: 2 },
  ],
};
