// Helpers for the real-browser tests: Debian's Chromium driven by playwright-core (no browser
// download; skipped with the reason where /usr/bin/chromium is absent), the page bundled when
// dist/web is missing, and `alexnet web` run as a real child process on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { root } from './train_helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
/** `skip` for node:test: false where Chromium is installed, else why the test cannot run. */
export const chromiumSkip: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (scripts/setup.sh installs it)`;
if (chromiumSkip) process.stdout.write(`# skipping browser tests: ${chromiumSkip}\n`);

/** The flags Chromium needs here: headless, as root, and no calls to Google's services (this machine's network is closed). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Bundles the page (scripts/bundle_web.js) unless dist/web holds it already. */
export async function ensureWebBundle(): Promise<void> {
  if (existsSync(join(root, 'dist', 'web', 'index.html')) && existsSync(join(root, 'dist', 'web', 'engine.js'))) return;
  const { bundleWeb } = (await import(join(root, 'scripts', 'bundle_web.js'))) as { bundleWeb(o: { quiet: boolean }): Promise<void> };
  await bundleWeb({ quiet: true });
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile (we run as root: --no-sandbox) and one page that records its errors; `args` replace the flags. */
export async function launchBrowser(args: string[] = CHROMIUM_ARGS): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'alexnet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    acceptDownloads: true,
    viewport: { width: 1200, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface WebServer {
  url: string;
  child: ChildProcess;
  /** Sends `signal` and resolves with the exit code (or the signal's name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs `alexnet web --port 0 ARGS` and resolves once it has printed its URL. */
export function startWebCli(args: string[] = []): Promise<WebServer> {
  const child = spawn(process.execPath, [join(root, 'bin', 'alexnet.js'), 'web', '--port', '0', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`alexnet web printed no URL within 20 s: ${out}${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/[^\s]+\//.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[0],
        child,
        stop: (signal = 'SIGINT') => {
          child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`alexnet web exited (${code}) before printing its URL: ${out}${err}`));
    });
  });
}
