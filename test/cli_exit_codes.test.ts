// The CLI's answer to each kind of error, with main() running a test program whose actions throw
// them: UsageError exit 2 and DataError exit 1 in one line; Node's fs errors about a path the
// user named are data errors; anything else is a bug: its stack on stderr, exit 70, whether the
// action throws, rejects, or a timer throws after it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { root, tempDir } from './train_helpers.js';

const dir = tempDir('cli-exit');
const script = join(dir, 'program.mjs');
const dist = (p: string) => pathToFileURL(join(root, 'dist/src', p)).href;
writeFileSync(
  script,
  `import { readFileSync, writeFileSync } from 'node:fs';
import { main, newProgram } from '${dist('cli/main.js')}';
import { DataError, UsageError } from '${dist('errors.js')}';
const program = newProgram();
program.command('type-error').action(() => { const o = undefined; return o.field; });
program.command('async-bug').action(async () => { await Promise.resolve(); throw new RangeError('index out of range'); });
program.command('timer-bug').action(() => new Promise(() => setTimeout(() => { throw new TypeError('late'); }, 10)));
program.command('usage').action(() => { throw new UsageError('--frob: expected a frob'); });
program.command('data').action(() => { throw new DataError('x.bin: no frobs in it'); });
program.command('read <file>').action((file) => readFileSync(file));
program.command('write <file>').action((file) => writeFileSync(file, 'x'));
program.command('read-unnamed').action(() => readFileSync(${JSON.stringify(join(dir, 'not-on-the-command-line'))}));
program.command('write-atomic <file>').action((file) => writeFileSync(file + '.tmp-' + process.pid, 'x'));
process.exitCode = await main(process.argv.slice(2), program);
`,
);

const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 30_000 });

const bugs: [command: string, shown: string][] = [
  ['type-error', 'TypeError'],
  ['async-bug', 'RangeError: index out of range'],
  ['timer-bug', 'TypeError: late'],
  ['read-unnamed', 'ENOENT'],
];
for (const [command, name] of bugs) {
  test(`a bug (${command}) prints its stack and exits 70`, () => {
    const r = run(command);
    assert.equal(r.status, 70, r.stderr);
    assert.match(r.stderr, /^alexnet: internal error/);
    assert.ok(r.stderr.includes(name), r.stderr);
    assert.match(r.stderr, /\n\s+at /, 'a stack trace');
  });
}

const userErrors: [string[], number, string][] = [
  [['usage'], 2, 'alexnet: --frob: expected a frob'],
  [['data'], 1, 'alexnet: x.bin: no frobs in it'],
  [['read', join(dir, 'missing.bin')], 1, `alexnet: ${join(dir, 'missing.bin')}: no such file or directory`],
  [['write', dir], 1, `alexnet: ${dir}: is a directory`],
  [['write-atomic', join(dir, 'nowhere/out.bin')], 1, `alexnet: ${join(dir, 'nowhere/out.bin')}: no such file or directory`],
];
for (const [args, code, line] of userErrors) {
  test(`${args[0]}: one line, exit ${code}`, () => {
    const r = run(...args);
    assert.equal(r.status, code, r.stderr);
    assert.equal(r.stderr, `${line}\n`);
  });
}
