// The broken-input policy. Default: skip the file, count it, name it in the log, and give a
// summary line at the end. Strict: the first broken input is a DataError naming its path.
import { DataError } from '../errors.js';
import type { BadInputKind } from './decode.js';

export interface BrokenInput {
  path: string;
  kind: BadInputKind;
  message: string;
}

export interface BrokenInputOptions {
  /** Fail on the first broken input instead of skipping it. */
  strict?: boolean;
  /** Where skip lines go (default: stderr). */
  log?: (line: string) => void;
}

export class BrokenInputLog {
  readonly strict: boolean;
  private readonly log: (line: string) => void;
  private readonly seen = new Map<string, BrokenInput>();

  constructor(options: BrokenInputOptions = {}) {
    this.strict = options.strict ?? false;
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
  }

  /** Records one broken input: throws in strict mode, else logs it (once per path). */
  report(item: BrokenInput): void {
    if (this.strict) throw new DataError(`${item.message} (strict mode: stopping at the first broken input)`);
    if (this.seen.has(item.path)) return;
    this.seen.set(item.path, item);
    this.log(`skipping ${item.message}`);
  }

  has(path: string): boolean {
    return this.seen.has(path);
  }

  get count(): number {
    return this.seen.size;
  }

  /** Everything skipped so far, in the order first seen. */
  items(): BrokenInput[] {
    return [...this.seen.values()];
  }

  /** One line: how many inputs were skipped and of which kinds (empty when none). */
  summary(): string {
    if (this.seen.size === 0) return '';
    const byKind = new Map<string, number>();
    for (const it of this.seen.values()) byKind.set(it.kind, (byKind.get(it.kind) ?? 0) + 1);
    const kinds = [...byKind.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
    const paths = [...this.seen.keys()];
    const shown = paths.slice(0, 20).join(', ') + (paths.length > 20 ? `, and ${paths.length - 20} more` : '');
    return `skipped ${paths.length} broken input${paths.length === 1 ? '' : 's'} (${kinds}): ${shown}`;
  }
}
