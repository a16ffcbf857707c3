// Entry point of a parse worker thread: parses one document at a time, posting a message per
// page and then the pages or the error. The pool that started it terminates it on a deadline.
// Text files are parsed here too, because decoding and normalising a large one takes seconds.
import { parentPort } from 'node:worker_threads';
import type { ParsedPage } from './types.js';
import { extractPdfPages, loadPdfJs } from './pdf-extract.js';
import { parseTextDocument } from './text-parser.js';
import { serializeError, type ParseJob, type ParseWorkerMessage } from './parse-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker must run as a worker thread');

function post(message: ParseWorkerMessage): void {
  port!.postMessage(message);
}

function parse(job: ParseJob): Promise<ParsedPage[]> {
  if (job.type !== 'pdf') {
    const pages = parseTextDocument(job.data, job.type);
    post({ id: job.id, kind: 'page', done: 1, total: 1 });
    return Promise.resolve(pages);
  }
  return extractPdfPages(job.data, {
    password: job.password,
    maxPages: job.maxPages,
    minCharsPerPage: job.minCharsPerPage,
    onPage: (done, total) => post({ id: job.id, kind: 'page', done, total }),
  });
}

async function handleJob(job: ParseJob): Promise<void> {
  try {
    const pages = await parse(job);
    post({ id: job.id, kind: 'pages', pages });
  } catch (error) {
    post({ id: job.id, kind: 'error', error: serializeError(error) });
  }
}

port.on('message', (job: ParseJob) => void handleJob(job));
// Loading pdf.js takes a few hundred milliseconds, so a fresh worker starts on it at once.
void loadPdfJs();
