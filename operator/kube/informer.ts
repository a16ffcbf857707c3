import { Watch } from '@kubernetes/client-node';
import type { Logger } from '../../server/core/logger.js';
import type { OperatorMetrics } from '../controller/metrics.js';
import type { KubeClients } from './client.js';
import { httpStatusOf } from './client.js';
import { collectionPath, keyOf, type KubeResource, type ResourceType } from './resources.js';

/** Kind of change an informer reports. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Options of {@link Informer}. */
export interface InformerOptions {
  clients: KubeClients;
  type: ResourceType;
  /** Namespace to watch; all namespaces when empty. */
  namespace?: string;
  labelSelector?: string;
  onChange: (change: ChangeType, object: KubeResource) => void;
  logger: Logger;
  metrics: OperatorMetrics;
  /** Server-side watch duration before the API server ends it; default 300 s. */
  watchTimeoutSeconds?: number;
  /**
   * A watch that delivers nothing, not even a bookmark, for this long is taken as dead and
   * restarted; default the watch timeout plus 30 s.
   */
  silenceTimeoutMs?: number;
  /** Delay before restarting a watch or list after an error; default 1000 ms. */
  retryDelayMs?: number;
}

/** Read access to a cache of objects, as reconcilers use it. */
export interface ObjectCache {
  get(namespace: string, name: string): KubeResource | undefined;
  list(): KubeResource[];
}

type RestartReason = 'closed' | 'silent' | 'error' | 'gone';

/**
 * A list-then-watch cache of one resource type, like client-go's reflector. A watch that ends,
 * fails or goes silent resumes from the last resource version seen. A 410 Gone, sent when that
 * version was compacted away, leads to exactly one relist, and its differences are reported as
 * changes.
 */
export class Informer implements ObjectCache {
  private readonly cache = new Map<string, KubeResource>();
  private resourceVersion = '';
  private abort?: AbortController;
  private stopped = false;
  private relists = 0;
  private watchId = 0;
  private watchStartedMs = 0;
  private readonly label: string;

  private readonly watcher: Watch;

  constructor(private readonly options: InformerOptions) {
    this.label = options.type.plural;
    this.watcher = new Watch(options.clients.config);
    const silenceMs =
      options.silenceTimeoutMs ?? ((options.watchTimeoutSeconds ?? 300) + 30) * 1000;
    // NOTE: client-node 2.0 keeps this inactivity timeout private. Its watch aborts after
    // receiving no bytes for this long, which is how a silent watch is detected.
    (this.watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = silenceMs;
  }

  /** Lists once, then keeps watching; resolves when the cache is filled. */
  async start(): Promise<void> {
    // The first list is retried too: a CRD installed moments ago can be missing from discovery.
    while (!this.stopped) {
      try {
        await this.relist();
        break;
      } catch (error) {
        this.options.logger.warn({ resource: this.label, err: error }, 'initial list failed');
        await this.sleep();
      }
    }
    void this.watch();
  }

  /** Stops the watch; the cache keeps its last contents. */
  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  /** Returns the cached object, if any. */
  get(namespace: string, name: string): KubeResource | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  /** Returns every cached object. */
  list(): KubeResource[] {
    return [...this.cache.values()];
  }

  /** Number of relists done after the first list. */
  get relistCount(): number {
    return this.relists;
  }

  /**
   * Restarts the watch from the given resource version, as after a long disconnection. An
   * expired version makes the API server return 410 Gone, which exercises the relist path.
   */
  resumeFrom(resourceVersion: string): void {
    this.resourceVersion = resourceVersion;
    this.abort?.abort();
  }

  private async relist(): Promise<void> {
    const { type, namespace, labelSelector } = this.options;
    const list = await this.options.clients.objects.list(
      type.apiVersion,
      type.kind,
      namespace || undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
    const seen = new Set<string>();
    for (const item of list.items as KubeResource[]) {
      const key = keyOf(item);
      seen.add(key);
      const cached = this.cache.get(key);
      this.cache.set(key, item);
      if (!cached) this.options.onChange('ADDED', item);
      else if (cached.metadata.resourceVersion !== item.metadata.resourceVersion) {
        this.options.onChange('MODIFIED', item);
      }
    }
    for (const [key, cached] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.options.onChange('DELETED', cached);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const { type, namespace, labelSelector } = this.options;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300;
    // Callbacks of a replaced watch must not restart it a second time.
    const id = ++this.watchId;
    this.watchStartedMs = Date.now();
    let errorEvent: KubeResource | undefined;
    const controller = await this.watcher.watch(
      collectionPath(type, namespace),
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        // Spread the server-side ends of many watches over a minute.
        timeoutSeconds: timeoutSeconds + Math.floor(Math.random() * 60),
        labelSelector,
      },
      (eventType: string, object: KubeResource) => {
        if (id !== this.watchId) return;
        if (eventType !== 'ERROR') return this.handleEvent(eventType, object);
        errorEvent = object;
        this.abort?.abort();
      },
      (error: unknown) => {
        if (id !== this.watchId) return;
        this.watchId++;
        const gone = httpStatusOf(errorEvent ?? error) === 410;
        void this.restart(this.reasonFor(error ?? errorEvent, gone), error ?? errorEvent);
      },
    );
    if (id === this.watchId) this.abort = controller;
    if (this.stopped) controller.abort();
  }

  private handleEvent(eventType: string, object: KubeResource): void {
    const version = object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (eventType === 'BOOKMARK') return;
    const key = keyOf(object);
    if (eventType === 'DELETED') this.cache.delete(key);
    else this.cache.set(key, object);
    this.options.onChange(eventType as ChangeType, object);
  }

  private reasonFor(error: unknown, gone: boolean): RestartReason {
    if (gone) return 'gone';
    if (error && (error as KubeResource).kind === 'Status') return 'error';
    if (error && (error as Error).name === 'TimeoutError') return 'silent';
    if (error && (error as Error).name !== 'AbortError') return 'error';
    return 'closed';
  }

  private async restart(reason: RestartReason, error: unknown): Promise<void> {
    if (this.stopped) return;
    this.options.metrics.watchRestarts.inc({ resource: this.label, reason });
    const log = { resource: this.label, reason, resourceVersion: this.resourceVersion };
    if (reason === 'error') this.options.logger.warn({ ...log, err: error }, 'watch failed');
    else this.options.logger.debug(log, 'watch restarting');
    // A watch that fails or closes at once is retried after a delay, so the loop cannot spin.
    if (reason === 'error' || Date.now() - this.watchStartedMs < 1000) await this.sleep();
    if (reason === 'gone') await this.relistUntilDone();
    await this.watch();
  }

  /** Relists once, retrying until the list succeeds, because a watch cannot resume without it. */
  private async relistUntilDone(): Promise<void> {
    this.relists++;
    while (!this.stopped) {
      try {
        await this.relist();
        return;
      } catch (error) {
        this.options.logger.warn({ resource: this.label, err: error }, 'relist failed');
        await this.sleep();
      }
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 1000));
  }
}
