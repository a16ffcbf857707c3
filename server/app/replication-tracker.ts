import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from '../core/logger.js';
import { LogUnavailableError } from '../replication/errors.js';
import type { DocumentLog } from '../replication/types.js';

/** Options of {@link ReplicationTracker}. */
export interface ReplicationTrackerOptions {
  log: Pick<DocumentLog, 'lastSeq'>;
  /** Sequence of the newest entry applied to the local index. */
  appliedSeq: () => number;
  logger: Logger;
  /** How often the log head is read, in milliseconds. Default 1000. */
  headPollIntervalMs?: number;
  /** Bound on one read of the log head, in milliseconds. Default 5000. */
  headTimeoutMs?: number;
  /** Largest lag, in log records, at which the server still reports ready. Default 100. */
  readyLagRecords?: number;
}

/** How far this server's index is behind the log, as `/stats` and `/metrics` report it. */
export interface ReplicationStatus {
  /** Newest sequence the log reported, or the newest applied when that is higher; 0 until known. */
  logHeadSeq: number;
  /** `logHeadSeq` minus the applied sequence; 0 until the head is known. */
  lagRecords: number;
  /** `unavailable` while the newest read of the head or the newest append failed. */
  log: 'available' | 'unavailable';
}

/**
 * Tracks the log head and the log's reachability for readiness. The head is polled, so the lag
 * covers records appended by any server; an outage shows up at the next poll or failed append.
 *
 * Readiness fails while the index lags the head by more than `readyLagRecords`, before the first
 * head read finished, and after the apply loop stopped. A log outage alone keeps the server ready,
 * because its index still serves search and ask requests, and failing every server's readiness at once
 * would empty the Service and the balancer during the outage.
 *
 * A server that has never reached the log cannot measure its lag. It is ready when its index
 * has applied at least one entry, as a snapshot loaded at startup has, because a stale index still
 * returns results. With an empty index it has nothing to serve and is not ready.
 */
export class ReplicationTracker {
  private headSeq: number | undefined;
  private logError: string | undefined;
  private applyError: string | undefined;
  private readonly log: Logger;

  constructor(private readonly options: ReplicationTrackerOptions) {
    this.log = options.logger;
  }

  /** Reads the head now and then every `headPollIntervalMs` until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const intervalMs = this.options.headPollIntervalMs ?? 1000;
    while (!signal.aborted) {
      await this.refreshHead();
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Reads the log head once; a failure marks the log unavailable. */
  async refreshHead(): Promise<void> {
    const timeoutMs = this.options.headTimeoutMs ?? 5000;
    try {
      const head = await withTimeout(this.options.log.lastSeq(), timeoutMs, 'reading the log head');
      this.headSeq = Math.max(this.headSeq ?? 0, head);
      this.logReachable();
    } catch (error) {
      this.logUnreachable(error);
    }
  }

  /** Records that an entry was applied; the head is at least that entry. */
  applied(seq: number): void {
    if (this.headSeq !== undefined && seq > this.headSeq) this.headSeq = seq;
  }

  /** Records a successful append or head read. */
  logReachable(): void {
    if (this.logError === undefined) return;
    this.log.info({ cause: this.logError }, 'log reachable again; ingest resumes');
    this.logError = undefined;
  }

  /** Records a failed append or head read. */
  logUnreachable(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.logError === undefined) {
      this.log.warn(
        { err: error },
        'log unavailable; ingest fails, search and ask use the local index',
      );
    }
    this.logError = message;
  }

  /** Records that the apply loop ended with an error; the index no longer follows the log. */
  applyStopped(error: unknown): void {
    this.applyError = error instanceof Error ? error.message : String(error);
  }

  /**
   * Returns the error for a write while the log is known to be unreachable, or undefined while it
   * is reachable. An ingest checks it first, so it fails before parsing and embedding.
   */
  unavailableForWrites(): LogUnavailableError | undefined {
    if (this.logError === undefined) return undefined;
    return new LogUnavailableError(
      `nothing can be stored while the replicated log is unavailable (search and ask still ` +
        `work): ${this.logError}`,
    );
  }

  status(): ReplicationStatus {
    const logHeadSeq = this.headSeq ?? 0;
    const lagRecords =
      this.headSeq === undefined ? 0 : Math.max(0, logHeadSeq - this.options.appliedSeq());
    return {
      logHeadSeq,
      lagRecords,
      log: this.logError === undefined ? 'available' : 'unavailable',
    };
  }

  /**
   * Decides whether the server may take traffic. `reason` explains a refusal, or a degraded state of a
   * ready server, such as the log being unavailable.
   */
  readiness(): { ready: boolean; reason?: string } {
    if (this.applyError !== undefined) {
      return { ready: false, reason: `applying the log stopped: ${this.applyError}` };
    }
    if (this.headSeq === undefined) return this.readinessWithoutHead();
    const { lagRecords } = this.status();
    const maxLag = this.options.readyLagRecords ?? 100;
    if (lagRecords > maxLag) {
      return {
        ready: false,
        reason: `catching up: ${lagRecords} log records behind, ready at ${maxLag} or fewer`,
      };
    }
    if (this.logError !== undefined) {
      return {
        ready: true,
        reason: `log unavailable: ${this.logError}; search and ask use the local index, ingest fails`,
      };
    }
    return { ready: true };
  }

  /** Decides readiness before any head read succeeded, from the log error and the index alone. */
  private readinessWithoutHead(): { ready: boolean; reason: string } {
    if (this.logError === undefined) {
      return { ready: false, reason: 'log head not read yet: the first read has not finished' };
    }
    const appliedSeq = this.options.appliedSeq();
    if (appliedSeq === 0) {
      return {
        ready: false,
        reason: `log unavailable since start and the index is empty: ${this.logError}`,
      };
    }
    return {
      ready: true,
      reason:
        `log unavailable since start: ${this.logError}; search and ask use the local index ` +
        `at sequence ${appliedSeq} with an unknown lag, ingest fails`,
    };
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(timeoutMs, undefined, { signal: timeout.signal }).then(() => {
        throw new Error(`${what} timed out after ${timeoutMs} ms`);
      }),
    ]);
  } finally {
    timeout.abort();
  }
}
