// The wasm backend's geometry checks (src/backend/checks.ts), run before any kernel touches the
// shared heap: sizes are bounded by WebAssembly's 32-bit memory.
import { geometryChecks } from '../checks.js';

/** The most elements one tensor may have (4 GiB of float32, WebAssembly's 32-bit limit). */
export const MAX_ELEMENTS = 2 ** 30;

export const { checkAdaptive, checkConv, checkLinear, checkLrn, checkPool, checkRows } = geometryChecks('wasm', MAX_ELEMENTS);
