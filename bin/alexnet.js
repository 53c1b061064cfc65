#!/usr/bin/env node
// Command-line entry point: runs the compiled CLI (npm run build first).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
