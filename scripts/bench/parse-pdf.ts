// Measures PDF parsing throughput (pages per second) and the delay the parse adds to the main
// event loop. Usage: node --import tsx scripts/bench/parse-pdf.ts [file.pdf] [--runs N]
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DocumentParser } from '../../server/ingest/index.js';

const DEFAULT_PDF = '/usr/share/debian-reference/debian-reference.en.pdf';

interface RunResult {
  pages: number;
  seconds: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

async function parseOnce(parser: DocumentParser, data: Buffer): Promise<RunResult> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const pages = await parser.parse({ name: 'bench.pdf', data });
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  return {
    pages: pages.length,
    seconds,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopDelayMaxMs: delay.max / 1e6,
  };
}

function format(label: string, result: RunResult): string {
  const rate = (result.pages / result.seconds).toFixed(1);
  return (
    `${label}: ${result.pages} pages in ${result.seconds.toFixed(2)} s = ${rate} pages/s; ` +
    `event-loop delay p99 ${result.loopDelayP99Ms.toFixed(1)} ms, ` +
    `max ${result.loopDelayMaxMs.toFixed(1)} ms`
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsFlag = args.indexOf('--runs');
  const runs = runsFlag === -1 ? 3 : Number(args[runsFlag + 1]);
  const file = args.find((arg, index) => !arg.startsWith('--') && args[index - 1] !== '--runs');
  const data = readFileSync(file ?? DEFAULT_PDF);

  const parser = new DocumentParser();
  try {
    // The first run includes starting the worker and loading pdf.js; later runs reuse both.
    console.log(format('cold worker', await parseOnce(parser, data)));
    for (let run = 1; run <= runs; run++) {
      console.log(format(`warm run ${run}`, await parseOnce(parser, data)));
    }
  } finally {
    await parser.close();
  }
}

await main();
