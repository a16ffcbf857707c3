import { setTimeout as sleep } from 'node:timers/promises';

import { ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { LogUnavailableError } from './errors.js';
import { NatsLog, type NatsLogOptions } from './nats-log.js';
import { checkNatsLogOptions, describeNatsServers } from './nats-validation.js';
import type { DocumentLog, LogEntry, LogRecord } from './types.js';

/** Options for {@link openNatsLog}. */
export interface OpenNatsLogOptions extends NatsLogOptions {
  /**
   * Wait before the second connection attempt when NATS was unreachable at startup, in ms. It
   * doubles after each failed attempt up to `retryMaxDelayMs`; default 500.
   */
  retryInitialDelayMs?: number;
  /** Maximum wait between two connection attempts, in ms; default 5000. */
  retryMaxDelayMs?: number;
}

/**
 * Opens the NATS log of a stream server. Invalid options and a stream that conflicts with an
 * existing one throw ValidationError, so a misconfigured server stops at startup. When NATS is
 * unreachable, returns a {@link DeferredNatsLog} that keeps connecting in the background, so the
 * server can serve its index snapshot meanwhile.
 */
export async function openNatsLog(options: OpenNatsLogOptions): Promise<DocumentLog> {
  checkNatsLogOptions(options);
  try {
    return await NatsLog.connect(options);
  } catch (error) {
    if (!(error instanceof LogUnavailableError)) throw error;
    (options.logger ?? silentLogger).warn(
      { err: error, servers: describeNatsServers(options.servers), stream: options.stream },
      'NATS unreachable at startup; connecting in the background, ingest fails until then',
    );
    return new DeferredNatsLog(options, error);
  }
}

/**
 * A NATS log that was unreachable when the server started. It retries the connection in the
 * background, with exponential backoff and jitter, until it succeeds or the log is closed.
 * Until then appends and head reads fail with LOG_UNAVAILABLE, and readers wait. Afterwards
 * every call goes to the connected {@link NatsLog}, which rides out later outages itself.
 *
 * A ValidationError found only after connecting, such as a stream conflict, is retried too:
 * the server keeps serving its index, and the conflict may be removed without a restart.
 */
export class DeferredNatsLog implements DocumentLog {
  readonly #options: OpenNatsLogOptions;
  readonly #logger: Logger;
  readonly #servers: string;
  readonly #closing = new AbortController();
  readonly #connected: Promise<NatsLog | undefined>;
  #log: NatsLog | undefined;
  #lastError: Error;

  /** Starts connecting at once; `firstError` is the failure of the attempt made at startup. */
  constructor(options: OpenNatsLogOptions, firstError: Error) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#servers = describeNatsServers(options.servers);
    this.#lastError = firstError;
    this.#connected = this.#connectInBackground().then((log) => (this.#log = log));
  }

  /** Whether a connection succeeded; every call goes to the NATS log from then on. */
  get connected(): boolean {
    return this.#log !== undefined;
  }

  append(record: LogRecord): Promise<number> {
    if (this.#log) return this.#log.append(record);
    return Promise.reject(this.#unavailable());
  }

  /** Waits for the connection, then yields what the NATS log yields from `fromSeq` on. */
  async *read(fromSeq: number, options: { signal?: AbortSignal } = {}): AsyncIterable<LogEntry> {
    const log = this.#log ?? (await this.#waitForConnection(options.signal));
    if (!log) return;
    yield* log.read(fromSeq, options);
  }

  lastSeq(): Promise<number> {
    if (this.#log) return this.#log.lastSeq();
    return Promise.reject(this.#unavailable());
  }

  /** Stops connecting, ends waiting readers and closes the connection if one was made. */
  async close(): Promise<void> {
    this.#closing.abort();
    const log = await this.#connected;
    await log?.close();
  }

  async #connectInBackground(): Promise<NatsLog | undefined> {
    const signal = this.#closing.signal;
    const maxDelayMs = this.#options.retryMaxDelayMs ?? 5000;
    let delayMs = Math.min(this.#options.retryInitialDelayMs ?? 500, maxDelayMs);
    for (let attempt = 2; ; attempt++) {
      // Half fixed, half random, so servers restarted together do not retry in step.
      const waitMs = delayMs / 2 + (Math.random() * delayMs) / 2;
      await sleep(waitMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return undefined;
      try {
        const log = await NatsLog.connect(this.#options);
        if (!signal.aborted) {
          this.#logger.info(
            { servers: this.#servers, attempt },
            'connected to NATS; log available',
          );
          return log;
        }
        await log.close().catch((error: unknown) => {
          this.#logger.warn({ err: error, servers: this.#servers }, 'closing the NATS log failed');
        });
        return undefined;
      } catch (error) {
        this.#recordFailure(error, attempt);
        delayMs = Math.min(delayMs * 2, maxDelayMs);
      }
    }
  }

  /** Logs a failed attempt at warn or error when its cause changed, and at debug otherwise. */
  #recordFailure(error: unknown, attempt: number): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    const changed = failure.message !== this.#lastError.message;
    this.#lastError = failure;
    const fields = { err: failure, servers: this.#servers, attempt };
    if (!changed) {
      this.#logger.debug(fields, 'connecting to NATS failed again; retrying');
    } else if (failure instanceof ValidationError) {
      this.#logger.error(fields, 'the NATS log stream cannot be used; retrying');
    } else {
      this.#logger.warn(fields, 'connecting to NATS failed; retrying');
    }
  }

  async #waitForConnection(signal?: AbortSignal): Promise<NatsLog | undefined> {
    if (!signal) return this.#connected;
    if (signal.aborted) return undefined;
    return new Promise((resolve) => {
      const stop = (): void => resolve(undefined);
      signal.addEventListener('abort', stop, { once: true });
      void this.#connected.then((log) => {
        signal.removeEventListener('abort', stop);
        resolve(log);
      });
    });
  }

  #unavailable(): LogUnavailableError {
    const error = this.#lastError;
    if (this.#closing.signal.aborted) {
      return new LogUnavailableError(`NATS log at ${this.#servers} is closed`);
    }
    if (error instanceof ValidationError) {
      return new LogUnavailableError(
        `the log stream at NATS ${this.#servers} cannot be used, so ingest and delete fail: ` +
          error.message,
        { cause: error },
      );
    }
    return new LogUnavailableError(
      `no connection to the log since this server started: ${error.message}. The server keeps ` +
        'connecting in the background, and ingest and delete work again once it succeeds',
      { cause: error },
    );
  }
}
