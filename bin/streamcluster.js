#!/usr/bin/env node
// Entry point of the `streamcluster` command. Runs the compiled build from dist/ when present
// (`make build`), else the TypeScript sources through tsx, so a fresh checkout works either way.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/server/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../server/cli/main.ts', import.meta.url));

if (existsSync(compiled)) {
  await import(compiled);
} else {
  const child = spawn(process.execPath, ['--import', 'tsx', source, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Signals sent to this wrapper's PID (kill, systemd, a container runtime) reach the command.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
