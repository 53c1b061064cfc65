// Downloading a file the way torch.hub's download_url_to_file does, and no less safely: the body
// streams (Node's fetch, redirects followed) into a temporary file beside the target while its
// SHA-256 is computed; the digest must start with the expected hash prefix, and only then is the
// file fsynced and renamed over the target. A stalled connection times out, a dropped one or a
// short body is an error, and Ctrl-C (SIGINT/SIGTERM) removes the temporary file before the
// process ends as the signal would have (exit 128 + n) — unless the program listens for that
// signal itself, in which case the download only stops and rejects. Nothing half-written is
// ever left behind; every failure is one DataError naming the URL.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DataError } from '../errors.js';
import { downloadProgress, type DownloadProgress } from './download_progress.js';
import { fsyncDir } from './write_atomic.js';

export interface DownloadOptions {
  /** The SHA-256 hex digest must start with this (torch.hub's check_hash); null or absent: not checked. */
  hashPrefix?: string | null;
  /** A progress bar on stderr when it is a terminal (default true). */
  progress?: boolean;
  /** Give up when no byte arrives for this long (default 30 000 ms), connecting included. */
  stallTimeoutMs?: number;
  /** Refuse a body larger than this (default 4 GiB). */
  maxBytes?: number;
  /** Added to the message of a network failure: what to do without the network. */
  hint?: string;
  /** Where the start and end lines and the bar go (default process.stderr). */
  log?: NodeJS.WriteStream;
}

const DEFAULT_STALL_MS = 30_000;
const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const MB = 1024 * 1024;

/** Why a download stopped, as the abort reason of its fetch. */
class Stopped extends Error {}

/** The underlying reason of a fetch failure: undici wraps it ('fetch failed', cause ECONNREFUSED). */
function networkReason(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  return cause?.code ?? e.message ?? String(err);
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let done = 0;
  while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
}

/**
 * Downloads `url` to `dest` (whose folder must exist): see the header. Resolves once `dest` holds
 * the whole, checked file.
 */
export async function downloadToFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const log = opts.log ?? process.stderr;
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const hint = opts.hint ? `; ${opts.hint}` : '';
  const dir = dirname(dest);
  const tmp = join(dir, `.${basename(dest)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  const controller = new AbortController();
  let fd = -1;
  let received = 0;
  let total: number | null = null;
  let bar: DownloadProgress | null = null;

  const removeTemporary = (): void => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
  };
  const progressText = (): string => `after ${(received / MB).toFixed(1)}${total === null ? '' : ` of ${(total / MB).toFixed(1)}`} MB`;
  const failed = (reason: string): DataError =>
    new DataError(`cannot download ${url} (${reason})${fd >= 0 || received > 0 ? '; nothing was kept' : ''}${hint}`);

  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => controller.abort(new Stopped(`no data for ${stallMs / 1000} s`)), stallMs);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    // Another listener owns the signal: stop the download and let the program decide.
    if (process.listenerCount(signal) > 1) return controller.abort(new Stopped(`stopped by ${signal}`));
    bar?.stop();
    removeTemporary();
    log.write(`\ndownload of ${url} stopped by ${signal}; nothing was kept\n`);
    process.exit(128 + constants.signals[signal]);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);

  // Why the stream stopped: our own abort (stall, signal) says so; otherwise the network's reason.
  const reasonOf = (err: unknown): string => {
    const why = controller.signal.reason as unknown;
    return why instanceof Stopped ? why.message : networkReason(err);
  };

  log.write(`Downloading: "${url}" to ${dest}\n`);
  const started = performance.now();
  try {
    armStallTimer();
    let res: Response;
    try {
      res = await fetch(url, {
        signal: controller.signal,
        redirect: 'follow',
        headers: { 'user-agent': 'alexnet (torch.hub-compatible)' },
      });
    } catch (err) {
      throw failed(reasonOf(err));
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw failed(`HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
    }
    const length = res.headers.get('content-length');
    total = length !== null && /^\d+$/.test(length) ? Number(length) : null;
    if (total !== null && total > maxBytes)
      throw failed(`the server announces ${(total / MB).toFixed(0)} MB, more than ${maxBytes / MB} MB`);
    const cannotWrite = (err: unknown): DataError =>
      new DataError(`${dir}: cannot write the download there (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    try {
      fd = openSync(tmp, 'wx', 0o644);
    } catch (err) {
      throw cannotWrite(err);
    }
    const hash = createHash('sha256');
    if (opts.progress ?? true) bar = downloadProgress(basename(dest), total, log);
    try {
      for await (const chunk of res.body) {
        armStallTimer();
        received += chunk.length;
        if (received > maxBytes) throw new Stopped(`more than ${maxBytes / MB} MB`);
        try {
          writeAll(fd, chunk);
        } catch (err) {
          throw cannotWrite(err);
        }
        hash.update(chunk);
        bar?.update(received);
      }
    } catch (err) {
      if (err instanceof DataError) throw err;
      throw failed(err instanceof Stopped ? err.message : `connection lost ${progressText()}: ${reasonOf(err)}`);
    }
    if (total !== null && received !== total) throw failed(`the body ended ${progressText()}`);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    const digest = hash.digest('hex');
    const prefix = opts.hashPrefix;
    if (prefix !== null && prefix !== undefined && digest.slice(0, prefix.length) !== prefix)
      throw new DataError(
        `${url}: invalid hash value (expected "${prefix}", got "${digest.slice(0, Math.max(prefix.length, 8))}"): ` +
          `not the file its name promises; nothing was kept`,
      );
    renameSync(tmp, dest);
    fsyncDir(dir);
  } catch (err) {
    removeTemporary();
    throw err;
  } finally {
    clearTimeout(stallTimer);
    bar?.stop();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
  const seconds = (performance.now() - started) / 1000;
  log.write(`downloaded ${(received / MB).toFixed(1)} MB in ${seconds.toFixed(1)} s${opts.hashPrefix ? ', SHA-256 checked' : ''}\n`);
}
