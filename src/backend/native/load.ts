// Loads the native oneDNN addon and wraps it as a Backend (filled in by the native backend work).
import type { Backend } from '../backend.js';

export interface NativeOptions {
  threads?: number;
  precision?: 'f32' | 'bf16';
}

export function tryLoadNative(_opts: NativeOptions = {}): { backend: Backend | null; reason: string } {
  return { backend: null, reason: 'the native addon is not built yet' };
}
