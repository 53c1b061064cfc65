// Finds and loads the package's compiled addons, alexnet_native.node (oneDNN), alexnet_image.node
// (libjpeg-turbo) and alexnet_mpi.node (Open MPI, for distributed training), where node-gyp-build looks: the package's own build
// (build/Release/NAME.node), else a prebuild shipped for this platform
// (prebuilds/PLATFORM-ARCH/NAME.node; the addons use Node-API, so one build serves every Node).
// `npm install` runs node-gyp-build, which compiles only when no addon of the package loads.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AddonName = 'alexnet_native' | 'alexnet_image' | 'alexnet_mpi';

/** The Debian package each addon is compiled against. */
const BUILD_NEEDS: Readonly<Record<AddonName, string>> = {
  alexnet_native: 'libdnnl-dev',
  alexnet_image: 'libjpeg62-turbo-dev',
  alexnet_mpi: 'libopenmpi-dev',
};

/** The package (repository) root: this file is dist/src/native_addons.js. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

/** The places an addon may be, in the order they are tried. */
export function addonCandidates(name: AddonName, root = packageRoot()): [built: string, prebuilt: string] {
  return [join(root, 'build', 'Release', `${name}.node`), join(root, 'prebuilds', `${platform()}-${arch()}`, `${name}.node`)];
}

/** The first place that holds the addon, or undefined when it is neither built nor prebuilt. */
export function addonFile(name: AddonName, root = packageRoot()): string | undefined {
  return addonCandidates(name, root).find((file) => existsSync(file));
}

/** Loads an addon; null with the reason (for the fallback's notice) when it is missing or does not load. */
export function loadNativeAddon<T>(name: AddonName): { addon: T | null; reason: string } {
  const file = addonFile(name);
  if (file === undefined) {
    const [built] = addonCandidates(name);
    return { addon: null, reason: `${built} is not built (run 'npm run build:native'; it needs ${BUILD_NEEDS[name]})` };
  }
  try {
    return { addon: createRequire(import.meta.url)(file) as T, reason: '' };
  } catch (e) {
    return { addon: null, reason: `${file} failed to load: ${(e as Error).message}` };
  }
}
