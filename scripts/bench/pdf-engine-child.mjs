// Child process of compare-pdf-engines.ts: runs one engine on one file and prints
// {outcome, ms, maxStallMs} as JSON. Plain JavaScript, so pdf.js loads at native speed rather
// than through a TypeScript loader. Usage: node pdf-engine-child.mjs <engine> <file> [password]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);

/** Loads pdf.js and its worker half (run on this thread), before any timing starts. */
async function loadPdfJs(fromPackage) {
  const resolveFrom = fromPackage ? createRequire(require.resolve(fromPackage)) : require;
  const worker = await import(resolveFrom.resolve('pdfjs-dist/legacy/build/pdf.worker.mjs'));
  globalThis.pdfjsWorker = worker;
  return import(resolveFrom.resolve('pdfjs-dist/legacy/build/pdf.mjs'));
}

function squeeze(text) {
  return text.replace(/\s+/gu, ' ').trim();
}

async function loadEngine(engine) {
  if (engine === 'pdf-parse') {
    await loadPdfJs('pdf-parse');
    const { PDFParse } = await import('pdf-parse');
    return async (data, password) => {
      const parser = new PDFParse({ data, password });
      try {
        const result = await parser.getText();
        return `${result.total} pages, ${squeeze(result.text).length} chars`;
      } finally {
        await parser.destroy();
      }
    };
  }
  const pdfjs = await loadPdfJs();
  return async (data, password) => {
    const document = await pdfjs.getDocument({ data, password, verbosity: 0 }).promise;
    let text = '';
    for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber++) {
      const page = await document.getPage(pageNumber);
      const content = await page.getTextContent();
      for (const item of content.items) if ('str' in item) text += `${item.str} `;
      page.cleanup();
    }
    await document.destroy();
    return `${document.numPages} pages, ${squeeze(text).length} chars`;
  };
}

const [engine, file, password] = process.argv.slice(2);
const data = new Uint8Array(readFileSync(file));
const parse = await loadEngine(engine);

let maxStallMs = 0;
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  maxStallMs = Math.max(maxStallMs, now - last);
  last = now;
}, 5);
const started = performance.now();
let outcome;
try {
  outcome = await parse(data, password || undefined);
} catch (error) {
  outcome = `${error.name}: ${error.message}`;
}
const ms = performance.now() - started;
// A parse that never yields to timers keeps the interval from firing at all; its next tick,
// awaited here, records that whole stall.
await new Promise((resolve) => setTimeout(resolve, 10));
clearInterval(timer);
console.log(JSON.stringify({ outcome, ms, maxStallMs }));
