// The webgpu backend's geometry checks (src/backend/checks.ts), run before any kernel binds its
// buffers: the kernels index elements with 32-bit integers, so a tensor holds at most 2^30 f32
// elements (4 GiB; the device's own buffer limit is checked where a buffer is allocated).
import { geometryChecks } from '../checks.js';

/** The most elements one tensor may have in a geometry (32-bit byte offsets). */
export const MAX_ELEMENTS = 2 ** 30;

export const { checkAdaptive, checkConv, checkLinear, checkLrn, checkPool, checkRows } = geometryChecks('webgpu', MAX_ELEMENTS);
