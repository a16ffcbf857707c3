// Compares pdf-parse 2.x (getText on the calling thread) with pdfjs-dist's legacy build read
// page by page: the outcome on each file, wall time and the longest main event-loop stall.
// Each parse runs in a child process (pdf-engine-child.mjs) killed after 120 s, since a file may
// hang an engine.
// Usage: node --import tsx scripts/bench/compare-pdf-engines.ts [dir-or-file...]
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENGINES = ['pdf-parse', 'pdfjs-dist'] as const;
type Engine = (typeof ENGINES)[number];
const PASSWORDS: Record<string, string> = { 'issue6010_1.pdf': 'abc' };
const CHILD_TIMEOUT_MS = 120_000;
const DEFAULT_INPUTS = [
  fileURLToPath(new URL('../../test/data/pdfs/', import.meta.url)),
  '/usr/share/debian-reference/debian-reference.en.pdf',
];

interface Outcome {
  outcome: string;
  ms: number;
  maxStallMs: number;
}

function measure(engine: Engine, file: string): Outcome {
  const script = fileURLToPath(new URL('pdf-engine-child.mjs', import.meta.url));
  const password = PASSWORDS[basename(file)] ?? '';
  try {
    const output = execFileSync(process.execPath, [script, engine, file, password], {
      encoding: 'utf8',
      timeout: CHILD_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(output.trim().split('\n').at(-1)!) as Outcome;
  } catch {
    return {
      outcome: `no result within ${CHILD_TIMEOUT_MS} ms`,
      ms: CHILD_TIMEOUT_MS,
      maxStallMs: NaN,
    };
  }
}

function listPdfs(inputs: string[]): string[] {
  return inputs.flatMap((input) =>
    statSync(input).isDirectory()
      ? readdirSync(input)
          .filter((name) => name.endsWith('.pdf'))
          .sort()
          .map((name) => join(input, name))
      : [input],
  );
}

function main(): void {
  const inputs = process.argv.slice(2);
  console.log('| file | engine | outcome | ms | longest event-loop stall, ms |');
  console.log('| --- | --- | --- | ---: | ---: |');
  for (const file of listPdfs(inputs.length > 0 ? inputs : DEFAULT_INPUTS)) {
    for (const engine of ENGINES) {
      const { outcome, ms, maxStallMs } = measure(engine, file);
      const row = [basename(file), engine, outcome, ms.toFixed(0), maxStallMs.toFixed(0)];
      console.log(`| ${row.join(' | ')} |`);
    }
  }
}

main();
