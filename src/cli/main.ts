// The `alexnet` command line: commander for arguments, one file per command in ./commands, only
// the command that runs imported (./command_list.ts). Errors are answered by ./report_error.ts.
import { Command } from 'commander';
import { COMMANDS, commandName } from './command_list.js';
import { oneLine, reportError } from './report_error.js';

/** The program with its settings and no commands: errors are thrown to main, one line each. */
export function newProgram(): Command {
  return new Command('alexnet')
    .description('AlexNet in TypeScript: summary, prepare, forward, convert, train, eval, predict, bench')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (message, write) => write(oneLine(message.replace(/^error: /, ''))),
    });
}

/** The command argv asks for: the first word, or the word after `help`. */
function requestedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** Every command listed; only the one argv asks for is loaded with its options and action. */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = newProgram();
  const wanted = requestedCommand(argv);
  for (const entry of COMMANDS) {
    if (commandName(entry) === wanted) (await entry.load()).register(program);
    else program.command(entry.usage).description(entry.description);
  }
  return program;
}

/** Runs the command line and returns the exit code; errors thrown later, outside it, exit too. */
export async function main(argv: string[], program?: Command): Promise<number> {
  process.on('uncaughtException', (err) => process.exit(reportError(err, argv)));
  try {
    await (program ?? (await buildProgram(argv))).parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, argv);
  }
}
