// Exclusive use of a run directory: `alexnet train --out DIR` and `--resume DIR` hold DIR/run.lock
// (it holds their pid) while they run, so two runs can never interleave their metrics,
// checkpoints and summary. The lock file appears atomically with its content (written aside,
// then hard-linked into place, which fails if it exists, like O_EXCL); a lock whose pid is no
// longer running is stale and taken over with a note.
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export class RunLock {
  private held = true;
  private readonly onExit = (): void => this.release();

  private constructor(readonly path: string) {
    process.on('exit', this.onExit);
  }

  /** Takes the lock of `runDir` (creating the folder), or throws a DataError naming the holder. */
  static take(runDir: string): RunLock {
    mkdirSync(runDir, { recursive: true });
    const path = join(runDir, 'run.lock');
    const aside = `${path}.${process.pid}`;
    writeFileSync(aside, `${process.pid}\n`);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          linkSync(aside, path);
          return new RunLock(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const pid = readPid(path);
        if (attempt > 0 || pid === null || isRunning(pid))
          throw new DataError(
            `${runDir} is in use by another alexnet train (pid ${pid ?? 'unknown'}, ${path}); wait for it to end or choose another --out`,
          );
        process.stderr.write(`alexnet: taking over the stale lock ${path} (pid ${pid} is not running)\n`);
        unlinkSync(path);
      }
    } finally {
      unlinkSync(aside);
    }
  }

  /** Removes the lock file if this process still holds it. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    process.off('exit', this.onExit);
    if (readPid(this.path) === process.pid) unlinkSync(this.path);
  }
}
