#!/usr/bin/env node
// Entry point of the `streamcluster` command. Runs the compiled build from dist/ when present
// (`make build`), else the TypeScript sources through tsx, so a fresh checkout works either way.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/server/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../server/cli/main.ts', import.meta.url));

if (existsSync(compiled)) {
  await import(compiled);
} else {
  // tsx's loader registered in this process, rather than a child process running tsx: signals
  // and kill -9 then reach the command itself, and Ctrl-C sends its SIGINT once.
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
}
