/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** First retry delay after a failure, doubled per consecutive failure; default 500 ms. */
  baseBackoffMs?: number;
  /** Cap of the retry delay; default 60 000 ms. */
  maxBackoffMs?: number;
  /** Called whenever the number of waiting keys changes, for the queue depth metric. */
  onDepthChange?: (depth: number) => void;
}

/**
 * A queue of object keys in the style of client-go's work queue: a key waits at most once, a key
 * being processed is never handed out again until it is done, and a key added meanwhile is
 * processed once more afterwards. So each object is reconciled by one worker at a time, and a
 * burst of events for it collapses into one reconcile.
 */
export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly waitingSet = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(private readonly options: WorkQueueOptions = {}) {}

  /** Adds a key now; a key already waiting is not added twice. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waitingSet.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.processing.add(key);
      getter(key);
      return;
    }
    this.waiting.push(key);
    this.waitingSet.add(key);
    this.options.onDepthChange?.(this.waiting.length);
  }

  /** Adds a key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Adds a key after a backoff that grows with its consecutive failures. */
  addRateLimited(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const base = this.options.baseBackoffMs ?? 500;
    const delayMs = Math.min(base * 2 ** (failures - 1), this.options.maxBackoffMs ?? 60_000);
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Clears the failure count of a key after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Waits for the next key; resolves to undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.waiting.shift();
    if (key !== undefined) {
      this.waitingSet.delete(key);
      this.processing.add(key);
      this.options.onDepthChange?.(this.waiting.length);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks a key as processed; if it was added meanwhile it waits again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Number of keys waiting to be processed. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Stops handing out keys and cancels pending delays. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }
}
