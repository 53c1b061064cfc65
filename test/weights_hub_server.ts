// Test helpers for weights by name: a local HTTP server (127.0.0.1, port 0) whose routes the test
// sets and whose requests it counts, and the CLI run as a real child process (asynchronously, so
// that the server in this process keeps answering it).
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface TestServer {
  /** http://127.0.0.1:PORT/ */
  base: string;
  /** The paths requested so far, in order. */
  requests: string[];
  /** What each path answers (404 for the others). */
  routes: Map<string, Route>;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const requests: string[] = [];
  const routes = new Map<string, Route>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const route = routes.get(path);
    if (route) return route(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/`,
    requests,
    routes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers `body` whole. */
export const serveBytes =
  (body: Uint8Array): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  };

/** Streams the file at `path`. */
export const serveFile =
  (path: string): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  };

/** Announces `total` bytes, sends `sent` of them, then drops the connection. */
export const serveAndDrop =
  (total: number, sent: number): Route =>
  (req, res) => {
    res.writeHead(200, { 'content-length': total });
    res.write(new Uint8Array(sent), () => setTimeout(() => req.socket.destroy(), 20));
  };

/** Announces `total` bytes and sends 16 KiB every `everyMs` (a slow download to interrupt), until the client goes. */
export const serveSlowly =
  (total: number, everyMs: number): Route =>
  (req, res) => {
    res.writeHead(200, { 'content-length': total });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= total || req.socket.destroyed) return clearInterval(timer);
      const n = Math.min(16384, total - sent);
      sent += n;
      res.write(new Uint8Array(n));
    }, everyMs);
    req.socket.on('close', () => clearInterval(timer));
  };

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `alexnet ARGS` with extra environment; `onStart` gets the child (to signal it). */
export function runCli(args: string[], env: Record<string, string>, onStart?: (child: ChildProcess) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/alexnet.js', ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(child);
  });
}
