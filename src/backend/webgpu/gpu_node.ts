// The GPU under Node: the `webgpu` package (Dawn's Node bindings), which installs WebGPU's
// globals (GPUBufferUsage, …) and makes a GPU object. Without a Vulkan driver Dawn finds no
// adapter; SwiftShader's (VK_ICD_FILENAMES, docs/WEBGPU.md) runs everything on the CPU.
export async function nodeGpu(): Promise<GPU> {
  const { create, globals } = (await import('webgpu')) as { create(flags: string[]): GPU; globals: object };
  Object.assign(globalThis, globals);
  return create([]);
}
