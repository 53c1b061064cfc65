// `alexnet --help` lists every command without importing any command's code (sharp, vega and the
// models made it take seconds), the list agrees with what each command declares, and a
// command's own help still shows its options.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { COMMANDS, commandName } from '../src/cli/command_list.js';
import { root, tempDir } from './train_helpers.js';

const dir = tempDir('cli-startup');
const log = join(dir, 'resolved.txt');
// A module hook (it runs on its own thread) that appends every module URL the program imports to `log`.
const hook = join(dir, 'log_imports.mjs');
const resolveHook = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`;
writeFileSync(
  hook,
  `import { register } from 'node:module';\nregister('data:text/javascript,' + ${JSON.stringify(encodeURIComponent(resolveHook))});\n`,
);

function run(args: string[], withHook = false) {
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, [...(withHook ? ['--import', hook] : []), 'bin/alexnet.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const imported = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { ...r, imported };
}

test('alexnet --help lists every command with its description', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0, r.stderr);
  const flat = r.stdout.replace(/\s+/g, ' ');
  for (const entry of COMMANDS) {
    assert.ok(flat.includes(`${entry.usage} ${entry.description}`), `${entry.usage} missing from:\n${r.stdout}`);
  }
});

test('alexnet --help imports only the CLI itself and commander', () => {
  const r = run(['--help'], true);
  assert.equal(r.status, 0, r.stderr);
  const ours = r.imported.filter((u) => u.startsWith('file:') && !u.includes('/node_modules/commander/'));
  const allowed = /\/(bin\/alexnet\.js|dist\/src\/cli\/(main|command_list|report_error|user_paths)\.js|dist\/src\/errors\.js)$/;
  assert.ok(ours.length > 0, 'the hook saw the program start');
  assert.deepEqual(
    ours.filter((u) => !allowed.test(u)),
    [],
  );
});

test("a command's help loads that command and shows its options", () => {
  for (const args of [
    ['train', '--help'],
    ['help', 'train'],
  ]) {
    const r = run(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: alexnet train \[options\] \[data\]/);
    assert.match(r.stdout, /--resume <path>/);
  }
});

test('the listed name, arguments and description are those each command registers', async () => {
  for (const entry of COMMANDS) {
    const program = new Command('alexnet');
    (await entry.load()).register(program);
    const [cmd] = program.commands;
    assert.ok(cmd, `${entry.usage}: registers no command`);
    const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}]`));
    assert.equal([cmd.name(), ...args].join(' '), entry.usage);
    assert.equal(cmd.description(), entry.description, entry.usage);
    assert.equal(commandName(entry), cmd.name());
  }
});
