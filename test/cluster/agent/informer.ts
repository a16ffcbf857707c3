import type { Logger } from '../../../server/core/logger.js';
import { KubeApiError, type KubeClient } from './kube-client.js';

/** The object fields an informer relies on. */
export interface KubeObject {
  metadata: { name: string; namespace?: string; uid: string; resourceVersion?: string };
}

/** Callbacks of {@link runInformer}; they must not throw. */
export interface InformerHandlers<T extends KubeObject> {
  /** Called for every object seen after a list and for every added or modified object. */
  onUpsert(object: T): void;
  /** Called for a deleted object, and after a relist for each object that vanished meanwhile. */
  onDelete(object: T): void;
}

interface ListResponse<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

const retryDelayMs = 1000;
/** Servers end a watch after this long, so a silent stream is never trusted for longer. */
const watchTimeoutSeconds = 240;

/**
 * Lists and watches a collection (PATH without query, such as /api/v1/pods) until signal aborts,
 * keeping handlers told of every change. A watch that ends resumes from the last seen version; a
 * 410 Gone, or any other failure, leads to a fresh list.
 */
export async function runInformer<T extends KubeObject>(
  client: KubeClient,
  path: string,
  handlers: InformerHandlers<T>,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const known = new Map<string, T>();
  while (!signal.aborted) {
    try {
      let version = await relist(client, path, known, handlers);
      while (!signal.aborted) {
        version = await watchOnce(client, path, version, known, handlers, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      const gone = error instanceof KubeApiError && error.status === 410;
      if (!gone) logger.warn({ err: error, path }, 'list or watch failed; relisting');
      await new Promise((resolve) => setTimeout(resolve, gone ? 0 : retryDelayMs));
    }
  }
}

async function relist<T extends KubeObject>(
  client: KubeClient,
  path: string,
  known: Map<string, T>,
  handlers: InformerHandlers<T>,
): Promise<string> {
  const list = await client.request<ListResponse<T>>('GET', path);
  const seen = new Set<string>();
  for (const item of list.items) {
    seen.add(item.metadata.uid);
    known.set(item.metadata.uid, item);
    handlers.onUpsert(item);
  }
  for (const [uid, object] of known) {
    if (seen.has(uid)) continue;
    known.delete(uid);
    handlers.onDelete(object);
  }
  return list.metadata.resourceVersion;
}

/** Watches from VERSION until the stream ends; returns the last version seen. */
async function watchOnce<T extends KubeObject>(
  client: KubeClient,
  path: string,
  version: string,
  known: Map<string, T>,
  handlers: InformerHandlers<T>,
  signal: AbortSignal,
): Promise<string> {
  const query = `watch=true&allowWatchBookmarks=true&resourceVersion=${version}&timeoutSeconds=${watchTimeoutSeconds}`;
  let last = version;
  let expired = false;
  await client.watch<T>(
    `${path}?${query}`,
    (event) => {
      if (event.type === 'ERROR') {
        expired = true;
        return;
      }
      last = event.object.metadata.resourceVersion ?? last;
      if (event.type === 'BOOKMARK') return;
      if (event.type === 'DELETED') {
        known.delete(event.object.metadata.uid);
        handlers.onDelete(event.object);
        return;
      }
      known.set(event.object.metadata.uid, event.object);
      handlers.onUpsert(event.object);
    },
    signal,
  );
  // An ERROR event carries a Status, almost always 410 Gone: the version is too old to resume.
  if (expired) throw new KubeApiError('GET', path, 410, 'watch expired');
  return last;
}
