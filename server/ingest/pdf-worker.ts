// Entry point of a PDF worker thread: parses one document at a time, posting a message per page
// and then the pages or the error. The pool that started it terminates it on a deadline.
import { parentPort } from 'node:worker_threads';
import { extractPdfPages, loadPdfJs } from './pdf-extract.js';
import { serializeError, type PdfJob, type PdfWorkerMessage } from './pdf-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('pdf-worker must run as a worker thread');

function post(message: PdfWorkerMessage): void {
  port!.postMessage(message);
}

async function handleJob(job: PdfJob): Promise<void> {
  try {
    const pages = await extractPdfPages(job.data, {
      password: job.password,
      maxPages: job.maxPages,
      minCharsPerPage: job.minCharsPerPage,
      onPage: (done, total) => post({ id: job.id, kind: 'page', done, total }),
    });
    post({ id: job.id, kind: 'pages', pages });
  } catch (error) {
    post({ id: job.id, kind: 'error', error: serializeError(error) });
  }
}

port.on('message', (job: PdfJob) => void handleJob(job));
// Loading pdf.js takes a few hundred milliseconds, so a fresh worker starts on it at once.
void loadPdfJs();
