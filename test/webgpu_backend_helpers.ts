// The webgpu backend for tests: on these GPU-less machines Dawn runs on SwiftShader, the CPU
// Vulkan driver of Debian's chromium package, which VK_ICD_FILENAMES names (set here when unset
// and the driver is there, before the GPU worker starts). Where no adapter can be had, the
// reason, for a skip.
import { existsSync } from 'node:fs';
import type { WebGpuBackend } from '../src/backend/webgpu/index.js';
import { loadWebGpuBackendSync } from '../src/backend/webgpu/node.js';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** VK_ICD_FILENAMES for child processes and this one (SwiftShader's, unless already set). */
export function vulkanEnv(): Record<string, string> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return process.env.VK_ICD_FILENAMES ? { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES } : {};
}

export function webGpuForTests(): { backend: WebGpuBackend | null; reason: string } {
  vulkanEnv();
  try {
    return { backend: loadWebGpuBackendSync(), reason: '' };
  } catch (err) {
    return { backend: null, reason: `no WebGPU here: ${(err as Error).message}` };
  }
}
