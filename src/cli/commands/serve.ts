// `alexnet serve --weights W [--arch A] [--port 8080] [--host 127.0.0.1] ...`: an HTTP inference
// server with dynamic batching (src/serve/). It listens at once (/healthz answers), loads and
// warms up the model (/readyz answers 200 from then on), and on SIGTERM or SIGINT stops accepting,
// answers everything already accepted, and exits 0 (a second signal exits 130 at once).
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { CLASSIFIER_PRECISIONS, PRECISIONS, type ClassifierPrecision, type Precision } from '../../backend/backend.js';
import { BACKEND_NAMES, defaultBackendName, setBackend, type BackendName } from '../../backend/registry.js';
import { DEFAULT_MAX_PIXELS } from '../../data/image.js';
import { UsageError } from '../../errors.js';
import type { ArchName } from '../../models/index.js';
import { resolveWeightsArg, WEIGHTS_NAME_LIST } from '../../io/pretrained.js';
import { loadServedModel } from '../../serve/served_model.js';
import { buildServer, serverReady } from '../../serve/server.js';
import { registerWebSite } from '../../server/web_site.js';
import { CLASSIFIER_PRECISION_HELP, checkClassifierPrecision } from '../classifier_precision.js';
import { parseArch, parseChoice, parseNonNegativeNumber, parsePositiveInt, parseWorkers } from '../args.js';

interface ServeFlags {
  weights: string;
  arch?: ArchName;
  port: number;
  host: string;
  maxBatch: number;
  maxDelayMs: number;
  maxQueue: number;
  maxBody: number;
  maxPixels: number;
  timeoutMs: number;
  decodeWorkers: number;
  backend?: BackendName;
  precision: Precision;
  classifierPrecision?: ClassifierPrecision;
  jsonLog?: boolean;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got '${value}'`);
  return n;
}

/** Listens, or says why it cannot as a usage error naming --host or --port (in use, not this machine's, not allowed). */
async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  try {
    return await app.listen({ port, host });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    await app.close();
    if (code === 'EADDRINUSE') throw new UsageError(`--port ${port}: the port is in use on ${host}`);
    if (code === 'EACCES') throw new UsageError(`--port ${port}: not allowed to listen on it (ports below 1024 need privileges)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      throw new UsageError(`--host ${host}: not an address of this machine (${code})`);
    throw err;
  }
}

/** At least one decode worker, at most the machine's worker limit. */
function parseDecodeWorkers(value: string): number {
  const n = parseWorkers(value);
  if (n < 1) throw new InvalidArgumentError(`expected at least 1 decode worker, got '${value}'`);
  return n;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve predictions over HTTP with dynamic batching (POST /v1/predict, /metrics, /readyz)')
    .requiredOption(
      '--weights <file>',
      `model weights (.pth, .safetensors, a training checkpoint, or an int8 model from alexnet quantize), or ${WEIGHTS_NAME_LIST.join(' | ')}`,
    )
    .option('--arch <name>', 'architecture (default: from the weights)', parseArch)
    .option('--port <n>', 'TCP port (0: any free port)', parsePort, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--max-batch <n>', 'most images in one forward pass (1 turns batching off)', parsePositiveInt, 32)
    .option('--max-delay-ms <ms>', 'longest an image waits for others to join its batch', parseNonNegativeNumber, 5)
    .option('--max-queue <n>', 'most images waiting to be decoded, and to be batched (past it: 503)', parsePositiveInt, 256)
    .option('--max-body <bytes>', 'largest request body (past it: 413)', parsePositiveInt, 16 << 20)
    .option(
      '--max-pixels <n>',
      'largest image, in pixels, judged from its header before decoding (past it: 422)',
      parsePositiveInt,
      DEFAULT_MAX_PIXELS,
    )
    .option(
      '--timeout-ms <ms>',
      'answer 504 to a request not answered within this time (and 408 to a body not received in it)',
      parsePositiveInt,
      30_000,
    )
    .option(
      '--decode-workers <n>',
      'threads that decode images other than plain JPEGs',
      parseDecodeWorkers,
      Math.min(4, availableParallelism()),
    )
    .option('--backend <name>', BACKEND_NAMES.join(' | '), parseChoice(BACKEND_NAMES))
    .option('--precision <p>', 'f32 | bf16 (native backend) | f16 (webgpu backend: f16 weights)', parseChoice(PRECISIONS), 'f32')
    .option('--classifier-precision <p>', CLASSIFIER_PRECISION_HELP, parseChoice(CLASSIFIER_PRECISIONS))
    .option('--json-log', 'one JSON line per request (and per event) on stdout')
    .action(async (flags: ServeFlags) => {
      const backend = setBackend(flags.backend ?? defaultBackendName(), {
        precision: flags.precision,
        classifierPrecision: flags.classifierPrecision,
      });
      // A name (torchvision) is resolved, and downloaded if need be, before the server's own signal handlers.
      const weights = await resolveWeightsArg(flags.weights, flags.arch);
      checkClassifierPrecision(weights, flags.classifierPrecision);
      const app = buildServer({
        load: () => loadServedModel(weights, flags.arch),
        maxBatch: flags.maxBatch,
        maxDelayMs: flags.maxDelayMs,
        maxQueue: flags.maxQueue,
        maxBody: flags.maxBody,
        maxPixels: flags.maxPixels,
        timeoutMs: flags.timeoutMs,
        decodeWorkers: flags.decodeWorkers,
        logStream: flags.jsonLog ? process.stdout : undefined,
      });
      const say = (msg: string): void => {
        if (flags.jsonLog) app.log.info(msg);
        else process.stderr.write(`alexnet serve: ${msg}\n`);
      };
      let stopping = false;
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals): void => {
          if (stopping) {
            say(`second ${sig}: exiting at once`);
            process.exit(130);
          }
          stopping = true;
          say(`${sig}: no longer accepting; finishing the requests under way (press again to quit at once)`);
          app.close().then(resolve, resolve);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      await registerWebSite(app); // the web page at /
      const address = await listen(app, flags.host, flags.port);
      say(`listening on ${address} (${backend.name} backend, ${backend.precision}); loading ${flags.weights}`);
      try {
        await serverReady(app);
      } catch (err) {
        await app.close();
        throw err;
      }
      if (!stopping) say(`ready: POST ${address}/v1/predict`);
      await stopped;
      say('stopped');
    });
}
