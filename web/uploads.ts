import type { IngestStage, StreamClusterClient } from '../client/index.js';
import { byId, describeError, element } from './dom.js';

/** Labels of the ingest stages, in the order the server runs them. */
const stageLabels: Record<IngestStage, string> = {
  upload: 'Uploaded',
  parse: 'Pages parsed',
  chunk: 'Chunks',
  embed: 'Embeddings',
  index: 'Vectors indexed',
};

/**
 * Wires the upload form: each chosen file gets a list item with a progress bar per ingest stage,
 * and ends with its page and chunk counts or the error. Files upload one after another, because a
 * server runs at most a few ingests per connection and rejects more with TOO_MANY_INGESTS.
 * `currentClient` returns the page's client at the time of each upload.
 */
export function setUpUploads(
  currentClient: () => StreamClusterClient,
  onIndexed: (seq: number) => void,
): void {
  const form = byId<HTMLFormElement>('upload-form');
  const input = byId<HTMLInputElement>('files');
  const list = byId<HTMLUListElement>('uploads');

  form.addEventListener('submit', (submit) => {
    submit.preventDefault();
    const files = [...(input.files ?? [])];
    form.reset();
    void (async () => {
      const items = files.map((file) => {
        const item = new UploadItem(file.name, file.size);
        list.prepend(item.root);
        return item;
      });
      for (const [i, file] of files.entries())
        await ingest(currentClient(), file, items[i]!, onIndexed);
    })();
  });
}

async function ingest(
  client: StreamClusterClient,
  file: File,
  item: UploadItem,
  onIndexed: (seq: number) => void,
): Promise<void> {
  item.setStatus('running', 'Uploading…');
  try {
    const result = await client.ingest(file, {
      name: file.name,
      onProgress: (stage, done, total) => item.progress(stage, done, total),
    });
    const summary = `${plural(result.pages, 'page')}, ${plural(result.chunks, 'chunk')}`;
    item.setStatus(
      'done',
      result.duplicate ? `Already indexed: ${summary}` : `Indexed: ${summary}`,
    );
    onIndexed(result.seq);
  } catch (error) {
    item.setStatus('failed', `Failed: ${describeError(error)}`);
  }
}

let nextLabelId = 1;

/** One file's entry in the uploads list. */
class UploadItem {
  readonly root: HTMLLIElement;
  private readonly status: HTMLParagraphElement;
  private readonly bars = new Map<IngestStage, { bar: HTMLProgressElement; count: HTMLElement }>();

  constructor(name: string, size: number) {
    this.root = element('li', '', { 'data-state': 'waiting' });
    this.root.append(element('strong', name), ` (${formatBytes(size)})`);
    // Only the status line is announced: the counts change too often to read out.
    this.status = element('p', 'Waiting', { class: 'status', role: 'status' });
    const stages = element('dl', '', { class: 'stages' });
    for (const [stage, label] of Object.entries(stageLabels) as [IngestStage, string][]) {
      const id = `stage-label-${nextLabelId++}`;
      const bar = element('progress', '', { 'aria-labelledby': id, max: '1', value: '0' });
      const barCell = element('dd');
      barCell.append(bar);
      const count = element('dd', '–');
      stages.append(element('dt', label, { id }), barCell, count);
      this.bars.set(stage, { bar, count });
    }
    this.root.append(this.status, stages);
  }

  setStatus(state: 'running' | 'done' | 'failed', text: string): void {
    this.root.dataset.state = state;
    this.status.textContent = text;
  }

  progress(stage: IngestStage, done: number, total: number): void {
    const entry = this.bars.get(stage);
    if (!entry) return;
    entry.bar.max = Math.max(total, 1);
    entry.bar.value = Math.min(done, entry.bar.max);
    entry.count.textContent =
      stage === 'upload' ? `${formatBytes(done)} of ${formatBytes(total)}` : `${done} of ${total}`;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
