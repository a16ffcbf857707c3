import { StreamClusterError } from '../core/errors.js';

/** The index has not applied a sequence a request asked to observe within the timeout. */
export class ConsistencyTimeoutError extends StreamClusterError {
  readonly retryable = true;

  constructor(seq: number, applied: number, timeoutMs: number) {
    super(
      'CONSISTENCY_TIMEOUT',
      `this server has applied the log up to ${applied} but the request needs ${seq}; it did not catch up within ${timeoutMs} ms, so retry or raise consistencyTimeoutMs`,
    );
  }
}

/** Resolves waiters once the applied sequence reaches what each asked for. */
export class SequenceWaiter {
  private applied: number;
  private readonly waiters = new Set<{ seq: number; resolve: () => void }>();

  constructor(initial = 0) {
    this.applied = initial;
  }

  get current(): number {
    return this.applied;
  }

  advance(seq: number): void {
    if (seq <= this.applied) return;
    this.applied = seq;
    for (const waiter of this.waiters) {
      if (waiter.seq <= seq) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Waits until `seq` is applied; rejects with ConsistencyTimeoutError or the signal's reason. */
  async waitFor(seq: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (seq <= this.applied) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        reject(new ConsistencyTimeoutError(seq, this.applied, timeoutMs));
      }, timeoutMs);
      const onAbort = () => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }
}
