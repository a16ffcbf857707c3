import { GeneratorTimeoutError, type TimeoutPhase } from './errors.js';

const WAITING_FOR: Record<TimeoutPhase, string> = {
  connect: 'response headers',
  'first-token': 'first answer token',
  idle: 'further bytes of the answer stream',
};

const TIMEOUT_OPTION: Record<TimeoutPhase, string> = {
  connect: 'connectTimeoutMs',
  'first-token': 'firstTokenTimeoutMs',
  idle: 'idleTimeoutMs',
};

/**
 * One timer for the current wait of a streamed request. When it fires, `signal` aborts with a
 * GeneratorTimeoutError, which is also kept in `timeout` because fetch may reject with an error
 * of its own once aborted.
 */
export class StreamTimer {
  readonly #controller = new AbortController();
  readonly #endpoint: string;
  #timer: NodeJS.Timeout | undefined;
  #phase: TimeoutPhase | undefined;
  #timeout: GeneratorTimeoutError | undefined;

  /** @param endpoint - URL named in the timeout message. */
  constructor(endpoint: string) {
    this.#endpoint = endpoint;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The timeout that fired, if one did. */
  get timeout(): GeneratorTimeoutError | undefined {
    return this.#timeout;
  }

  /**
   * Starts waiting for `phase`, replacing any earlier wait. It times out after `remainingMs`,
   * which is less than `timeoutMs` when part of the allowed time has already passed.
   */
  start(phase: TimeoutPhase, timeoutMs: number, remainingMs = timeoutMs): void {
    this.pause();
    this.#phase = phase;
    this.#timer = setTimeout(() => this.#fire(phase, timeoutMs), Math.max(0, remainingMs));
  }

  /** Restarts an idle wait from now, for bytes that arrive; other waits keep their deadline. */
  refresh(): void {
    if (this.#phase === 'idle') this.#timer?.refresh();
  }

  /**
   * Stops the current wait. The generator calls it while the consumer processes a token, since
   * that time is not the endpoint's.
   */
  pause(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#phase = undefined;
  }

  /** Stops waiting and aborts the request if it is still open, releasing its connection. */
  close(): void {
    this.pause();
    this.#controller.abort();
  }

  #fire(phase: TimeoutPhase, timeoutMs: number): void {
    this.#timeout = new GeneratorTimeoutError(
      phase,
      timeoutMs,
      `${this.#endpoint} sent no ${WAITING_FOR[phase]} within ${timeoutMs} ms; raise ` +
        `${TIMEOUT_OPTION[phase]} if the model is slow, or check that the endpoint is healthy`,
    );
    this.#controller.abort(this.#timeout);
  }
}
