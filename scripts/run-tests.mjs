#!/usr/bin/env node
// Runs every *.test.ts file under the source folders with Node's test runner (through tsx).
// Node 20 expands no globs, so the list is built here, and an empty list is an error rather
// than a silent pass. Extra arguments are passed to the runner, for example --test-name-pattern.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = ['server', 'operator', 'client', 'cdk8s', 'test'];
const skipped = new Set(['node_modules', 'dist', '.cache']);

function findTests(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (skipped.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(process.cwd(), path));
  }
}

const args = process.argv.slice(2);
const only = args.filter((arg) => !arg.startsWith('-'));
const flags = args.filter((arg) => arg.startsWith('-'));
let files = [];
for (const root of only.length > 0 ? only : roots) {
  if (root.endsWith('.test.ts')) files.push(root);
  else findTests(root, files);
}
files.sort();
if (files.length === 0) {
  console.error(`no test files found under ${(only.length > 0 ? only : roots).join(', ')}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...flags, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
