#!/usr/bin/env node
// Entry point of the `streamcluster` command. Runs the compiled build from dist/ when present
// (`make build`), else the TypeScript sources through tsx, so a fresh checkout works either way.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/server/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../server/cli/main.ts', import.meta.url));

if (existsSync(compiled)) {
  await import(compiled);
} else {
  // Worker threads inherit execArgv, so the loader reaches the embedding and parsing workers too.
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', source, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(result.status ?? 1);
}
