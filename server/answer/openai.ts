import { StreamClusterError, ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { checkNumber } from './check-options.js';
import { parseCompletionChunk } from './completion-chunk.js';
import { GeneratorFailedError } from './errors.js';
import { describeHttpFailure } from './http-failure.js';
import { citeMarkers } from './marker-citations.js';
import { locatePagesBySeparator, type PageLocator } from './pages.js';
import { buildChatMessages } from './prompt.js';
import { readEventData } from './sse.js';
import { StreamTimer } from './stream-timer.js';
import { wordTokens } from './tokens.js';
import {
  NO_ANSWER_TEXT,
  type AnswerEvent,
  type AnswerGenerator,
  type AnswerRequest,
} from './types.js';

/** Options for {@link OpenAiGenerator}; defaults are in {@link OPENAI_DEFAULTS}. */
export interface OpenAiGeneratorOptions {
  /** API root that `/chat/completions` is appended to, such as `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Model name sent with each request. */
  model: string;
  /**
   * Environment variable holding the API key, sent as a bearer token; default `OPENAI_API_KEY`.
   * When it is unset, requests carry no Authorization header, as local servers expect.
   */
  apiKeyEnv?: string;
  /** Environment to read the API key from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Wait for the response headers; default 30,000 ms. */
  connectTimeoutMs?: number;
  /** Wait from sending the request to the first answer token; default 60,000 ms. */
  firstTokenTimeoutMs?: number;
  /** Maximum gap between received bytes once the answer streams; default 30,000 ms. */
  idleTimeoutMs?: number;
  /** `max_tokens` of the request; default 512. */
  maxTokens?: number;
  /** `temperature` of the request; default 0.2, low so answers stay close to the passages. */
  temperature?: number;
  /** Most recent conversation turns put into the prompt; default 6. */
  maxHistoryTurns?: number;
  /** Maximum length of one stream event; default 1,048,576 characters. */
  maxEventChars?: number;
  /** Finds the pages of a quoted sentence inside a chunk; default locatePagesBySeparator. */
  locatePages?: PageLocator;
  /** HTTP client; default the global fetch. */
  fetch?: typeof fetch;
  logger?: Logger;
}

type OpenAiSettings = Required<
  Pick<
    OpenAiGeneratorOptions,
    | 'apiKeyEnv'
    | 'connectTimeoutMs'
    | 'firstTokenTimeoutMs'
    | 'idleTimeoutMs'
    | 'maxTokens'
    | 'temperature'
    | 'maxHistoryTurns'
    | 'maxEventChars'
  >
>;

// NOTE: Node's fetch gives up after 300 s without headers or body bytes (undici's headersTimeout
// and bodyTimeout default to 300,000 ms), whatever longer timeouts are set here.
export const OPENAI_DEFAULTS: Readonly<OpenAiSettings> = {
  apiKeyEnv: 'OPENAI_API_KEY',
  connectTimeoutMs: 30_000,
  firstTokenTimeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  maxTokens: 512,
  temperature: 0.2,
  maxHistoryTurns: 6,
  maxEventChars: 1_048_576,
};

/**
 * Answers through an OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama,
 * llama.cpp) with streaming. The model receives the numbered chunks and cites them as `[n]`,
 * and the citations list the chunks the answer actually cites.
 */
export class OpenAiGenerator implements AnswerGenerator {
  readonly name = 'openai';
  readonly #endpoint: string;
  readonly #model: string;
  readonly #apiKey: string | undefined;
  readonly #settings: OpenAiSettings;
  readonly #locatePages: PageLocator;
  readonly #fetch: typeof fetch;
  readonly #logger: Logger;

  constructor(options: OpenAiGeneratorOptions) {
    this.#settings = resolveSettings(options);
    this.#endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.#model = options.model;
    const apiKey = (options.env ?? process.env)[this.#settings.apiKeyEnv];
    this.#apiKey = apiKey === '' ? undefined : apiKey;
    this.#locatePages = options.locatePages ?? locatePagesBySeparator;
    this.#fetch = options.fetch ?? fetch;
    this.#logger = options.logger ?? silentLogger;
    this.#logger.info(
      {
        endpoint: this.#endpoint,
        model: this.#model,
        apiKeyEnv: this.#settings.apiKeyEnv,
        apiKeySet: this.#apiKey !== undefined,
      },
      'chat completions generator configured',
    );
  }

  async *generate(request: AnswerRequest): AsyncGenerator<AnswerEvent> {
    request.signal?.throwIfAborted();
    if (request.chunks.length === 0) {
      for (const text of wordTokens(NO_ANSWER_TEXT)) yield { type: 'token', text };
      yield { type: 'citations', citations: [] };
      return;
    }

    const answer = yield* this.#streamAnswer(request);
    request.signal?.throwIfAborted();
    const citations = citeMarkers(answer, request.chunks, this.#locatePages);
    yield { type: 'citations', citations };
  }

  /** Streams the answer tokens and returns the whole answer text. */
  async *#streamAnswer(request: AnswerRequest): AsyncGenerator<AnswerEvent, string> {
    const timer = new StreamTimer(this.#endpoint);
    const signal = request.signal ? AbortSignal.any([request.signal, timer.signal]) : timer.signal;
    const startedAt = performance.now();
    let answer = '';
    let firstTokenMs: number | undefined;

    try {
      timer.start('connect', this.#settings.connectTimeoutMs);
      const response = await this.#post(request, signal);

      const { firstTokenTimeoutMs } = this.#settings;
      timer.start('first-token', firstTokenTimeoutMs, firstTokenTimeoutMs - elapsedMs(startedAt));
      for await (const token of this.#readTokens(response, timer)) {
        if (firstTokenMs === undefined) firstTokenMs = elapsedMs(startedAt);
        answer += token;
        timer.pause();
        yield { type: 'token', text: token };
        timer.start('idle', this.#settings.idleTimeoutMs);
      }
    } catch (error) {
      throw this.#explain(error, request.signal, timer);
    } finally {
      timer.close();
    }
    this.#logger.debug(
      { model: this.#model, firstTokenMs, totalMs: elapsedMs(startedAt), chars: answer.length },
      'chat completion streamed',
    );
    return answer;
  }

  async #post(request: AnswerRequest, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
    };
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    const body = JSON.stringify({
      model: this.#model,
      messages: buildChatMessages(request, this.#settings.maxHistoryTurns),
      stream: true,
      max_tokens: this.#settings.maxTokens,
      temperature: this.#settings.temperature,
    });
    this.#logger.debug(
      { endpoint: this.#endpoint, model: this.#model, chunks: request.chunks.length },
      'chat completion requested',
    );

    const response = await this.#fetch(this.#endpoint, { method: 'POST', headers, body, signal });
    if (response.ok && response.body) return response;
    if (response.ok) throw new GeneratorFailedError(`${this.#endpoint} sent an empty body`);
    throw await describeHttpFailure(
      response,
      {
        endpoint: this.#endpoint,
        model: this.#model,
        apiKeyEnv: this.#settings.apiKeyEnv,
        hasApiKey: this.#apiKey !== undefined,
      },
      (text) => this.#redact(text),
    );
  }

  /** Yields the non-empty content deltas until `[DONE]`; a stream cut short is a failure. */
  async *#readTokens(response: Response, timer: StreamTimer): AsyncGenerator<string> {
    const events = readEventData(response.body!, {
      maxEventChars: this.#settings.maxEventChars,
      onBytes: () => timer.refresh(),
    });
    let finished = false;
    for await (const data of events) {
      if (data.trim() === '[DONE]') return;
      const delta = parseCompletionChunk(data, this.#endpoint);
      if (delta.finishReason !== undefined) finished = true;
      if (delta.content !== '') yield delta.content;
    }
    // A chunk with finish_reason ends the answer, so a stream closed after it lost nothing.
    if (!finished) {
      throw new GeneratorFailedError(
        `${this.#endpoint} closed the answer stream before [DONE]; retry the question`,
      );
    }
  }

  /** Maps whatever ended the stream to what the caller should see. */
  #explain(error: unknown, callerSignal: AbortSignal | undefined, timer: StreamTimer): unknown {
    if (callerSignal?.aborted) return callerSignal.reason;
    if (timer.timeout) return timer.timeout;
    if (error instanceof StreamClusterError) return error;
    return new GeneratorFailedError(
      `${this.#endpoint} answer stream failed: ${this.#redact(describeCause(error))}; ` +
        'check that the endpoint is running and reachable',
      { cause: error },
    );
  }

  #redact(text: string): string {
    return this.#apiKey === undefined ? text : text.replaceAll(this.#apiKey, '[redacted]');
  }
}

function resolveSettings(options: OpenAiGeneratorOptions): OpenAiSettings {
  const settings: OpenAiSettings = { ...OPENAI_DEFAULTS };
  for (const key of Object.keys(settings) as (keyof OpenAiSettings)[]) {
    if (options[key] !== undefined) (settings as Record<string, unknown>)[key] = options[key];
  }

  const problems: string[] = [];
  if (!isHttpUrl(options.baseUrl)) {
    problems.push(`baseUrl must be an http or https URL, got ${JSON.stringify(options.baseUrl)}`);
  }
  if (!options.model)
    problems.push(`model must be a model name, got ${JSON.stringify(options.model)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(settings.apiKeyEnv)) {
    problems.push(
      `apiKeyEnv must be an environment variable name, got ${JSON.stringify(settings.apiKeyEnv)}`,
    );
  }
  for (const key of ['connectTimeoutMs', 'firstTokenTimeoutMs', 'idleTimeoutMs'] as const) {
    checkNumber(problems, key, settings[key], { min: 1, integer: true });
  }
  checkNumber(problems, 'maxTokens', settings.maxTokens, { min: 1, integer: true });
  checkNumber(problems, 'temperature', settings.temperature, { min: 0, max: 2 });
  checkNumber(problems, 'maxHistoryTurns', settings.maxHistoryTurns, { min: 0, integer: true });
  checkNumber(problems, 'maxEventChars', settings.maxEventChars, { min: 1024, integer: true });
  if (problems.length > 0) throw new ValidationError(problems);
  return settings;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function describeCause(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? `${message} (${cause.message})` : message;
}

function elapsedMs(since: number): number {
  return Math.round(performance.now() - since);
}
