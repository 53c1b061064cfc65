// Released weights by name, found where PyTorch keeps them. `torchvision` (alias IMAGENET1K_V1,
// torchvision's AlexNet_Weights name) is torchvision's `alexnet-owt-7be5be79.pth`. The cache is
// torch.hub's own — `$TORCH_HOME/hub/checkpoints`, TORCH_HOME defaulting to
// `$XDG_CACHE_HOME/torch` and that to `~/.cache/torch`, exactly as torch.hub.get_dir() — so a
// file PyTorch has downloaded is used as it is, and one downloaded here serves PyTorch too. A
// missing file is downloaded from torchvision's folder (or ALEXNET_WEIGHTS_URL, the URL of a
// folder holding the same file names) and checked like torchvision's check_hash: the SHA-256
// must start with the hex after the name's last '-'.
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DataError, UsageError } from '../errors.js';
import type { ArchName } from '../models/index.js';
import { downloadToFile, type DownloadOptions } from './download.js';

/** Weights a name stands for: which architecture they fit and the file's name in the hub cache. */
export interface NamedWeights {
  /** The name given to --weights (and the first of `names`). */
  readonly name: string;
  readonly arch: ArchName;
  /** File name in torch.hub's checkpoints folder and on the server; its hash prefix is checked. */
  readonly file: string;
  /** Where the weights come from, for messages. */
  readonly description: string;
}

const TORCHVISION: NamedWeights = {
  name: 'torchvision',
  arch: 'alexnet',
  file: 'alexnet-owt-7be5be79.pth',
  description: "torchvision's AlexNet weights (AlexNet_Weights.IMAGENET1K_V1)",
};

/** Every name --weights accepts, with its weights. */
export const WEIGHTS_NAMES: ReadonlyMap<string, NamedWeights> = new Map([
  ['torchvision', TORCHVISION],
  ['IMAGENET1K_V1', TORCHVISION],
]);

/** Where torchvision publishes its model files. */
export const TORCHVISION_BASE_URL = 'https://download.pytorch.org/models/';

/** The environment variable naming another folder URL to download the named files from. */
export const WEIGHTS_URL_VARIABLE = 'ALEXNET_WEIGHTS_URL';

type Env = Readonly<Record<string, string | undefined>>;

/** The named weights `value` stands for, or null when it is a path. */
export function namedWeights(value: string): NamedWeights | null {
  return WEIGHTS_NAMES.get(value) ?? null;
}

/** Python's os.path.expanduser for '~' and '~/...' (the current user's home). */
function expandUser(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** torch.hub.get_dir(): `$TORCH_HOME/hub`, TORCH_HOME defaulting to `$XDG_CACHE_HOME/torch`, that to `~/.cache`. */
export function torchHubDir(env: Env = process.env): string {
  const torchHome = env.TORCH_HOME ?? join(env.XDG_CACHE_HOME ?? '~/.cache', 'torch');
  return join(expandUser(torchHome), 'hub');
}

/** torch.hub's checkpoints folder, where load_state_dict_from_url keeps downloaded weights. */
export function hubCheckpointsDir(env: Env = process.env): string {
  return join(torchHubDir(env), 'checkpoints');
}

/** torch.hub's HASH_REGEX: the hex digits between a '-' and a '.' of a file name (null: none, nothing checked). */
export function hashPrefixOf(fileName: string): string | null {
  return /-([a-f0-9]*)\./.exec(fileName)?.[1] ?? null;
}

/** The URL of `weights`: torchvision's, or the file in the folder ALEXNET_WEIGHTS_URL names. */
export function weightsUrl(weights: NamedWeights, env: Env = process.env): string {
  const base = env[WEIGHTS_URL_VARIABLE] || TORCHVISION_BASE_URL;
  let url: URL;
  try {
    url = new URL(weights.file, base.endsWith('/') ? base : base + '/');
  } catch {
    throw new UsageError(`${WEIGHTS_URL_VARIABLE}=${base}: not a URL (expected the http(s) URL of a folder holding ${weights.file})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${WEIGHTS_URL_VARIABLE}=${base}: expected an http:// or https:// URL of a folder holding ${weights.file}`);
  return url.href;
}

export interface HubOptions extends Pick<DownloadOptions, 'progress' | 'stallTimeoutMs' | 'log'> {
  /** Environment to read TORCH_HOME, XDG_CACHE_HOME and ALEXNET_WEIGHTS_URL from (default process.env). */
  env?: Env;
}

/**
 * The path of `weights` in torch.hub's cache, downloading and checking the file first when it is
 * not there. Offline, the error says where to put the file.
 */
export async function hubWeightsFile(weights: NamedWeights, opts: HubOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const dir = hubCheckpointsDir(env);
  const path = join(dir, weights.file);
  if (existsSync(path)) return path;
  const url = weightsUrl(weights, env);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new DataError(
      `${dir}: cannot create torch.hub's checkpoints folder (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        `set TORCH_HOME to a folder you can write`,
    );
  }
  await downloadToFile(url, path, {
    hashPrefix: hashPrefixOf(weights.file),
    hint: `without network access, copy ${weights.file} (from that address) into ${dir}/`,
    progress: opts.progress,
    stallTimeoutMs: opts.stallTimeoutMs,
    log: opts.log,
  });
  return path;
}
