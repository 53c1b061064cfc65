// The `alexnet` command line: commander for arguments, one file per command in ./commands.
// User errors print one line on stderr and exit 2 (usage) or 1 (data); bugs keep their stack.
import { Command, CommanderError } from 'commander';
import { DataError, UsageError } from '../errors.js';
import { register as registerSummary } from './commands/summary.js';
import { register as registerPrepare } from './commands/prepare.js';
import { register as registerForward } from './commands/forward.js';
import { register as registerConvert } from './commands/convert.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerEval } from './commands/eval.js';
import { register as registerPredict } from './commands/predict.js';
import { register as registerBench } from './commands/bench.js';

const commands: ((program: Command) => void)[] = [
  registerSummary,
  registerPrepare,
  registerForward,
  registerConvert,
  registerTrain,
  registerEval,
  registerPredict,
  registerBench,
];

export function buildProgram(): Command {
  const program = new Command('alexnet')
    .description('AlexNet in TypeScript: summary, forward, convert, train, eval, predict, bench')
    .showHelpAfterError(false)
    .exitOverride();
  for (const register of commands) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its one-line message (or the help text).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`alexnet: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DataError) {
      process.stderr.write(`alexnet: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
