// The backends only Node has, loaded by the registry through '#platform-backends' (package.json
// "imports", condition "node"): 'native', the oneDNN addon. A browser bundle gets
// platform_neutral.ts instead, so nothing here reaches it.
import type { BackendLoader, BackendName } from './registry.js';
import { tryLoadNative } from './native/load.js';

export const platformBackends: Partial<Record<BackendName, BackendLoader>> = {
  native: tryLoadNative,
};
