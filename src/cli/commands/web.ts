// `alexnet web [--port N] [--host H] [--data DIR]`: serves the web page (src/server/web_site.ts)
// on a local fastify server and prints its URL; Ctrl-C (or SIGTERM) closes it and exits 130, as
// the other long-running commands do.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import Fastify from 'fastify';
import { UsageError } from '../../errors.js';
import { registerWebSite } from '../../server/web_site.js';

interface WebFlags {
  port: number;
  host: string;
  data?: string;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535 (0: any free port), got '${value}'`);
  return n;
}

/** Resolves with the signal's exit code once SIGINT or SIGTERM arrives. */
function untilSignal(): Promise<number> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(130);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function register(program: Command): void {
  program
    .command('web')
    .description('serve the web page (classify, look inside, train in the browser) on a local server')
    .option('--port <n>', 'port to listen on (0: any free port)', parsePort, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', "Fashion-MNIST's IDX files for the Train tab (default: /usr/share/datasets/fashion-mnist)")
    .action(async (flags: WebFlags) => {
      const app = Fastify({ logger: false });
      await registerWebSite(app, { dataDir: flags.data });
      const signalled = untilSignal();
      try {
        await app.listen({ port: flags.port, host: flags.host });
      } catch (err) {
        await app.close();
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UsageError(`--port ${flags.port}: the address ${flags.host}:${flags.port} is in use`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
          throw new UsageError(`--host ${flags.host} --port ${flags.port}: cannot listen there (${code})`);
        throw err;
      }
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : flags.port;
      const host = flags.host.includes(':') ? `[${flags.host}]` : flags.host;
      process.stdout.write(`alexnet web: http://${host}:${port}/ (Ctrl-C to stop)\n`);
      process.exitCode = await signalled;
      await app.close();
    });
}
