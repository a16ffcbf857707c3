import { GeneratorFailedError } from './errors.js';

/**
 * Splits a text/event-stream into the data of its events, following the HTML event-stream
 * format: lines end with CR, LF or CRLF, `data:` lines of one event are joined with LF, a blank
 * line ends the event, and lines starting with `:` are comments. Other fields are ignored.
 */
export class EventStreamParser {
  readonly #maxEventChars: number;
  #buffer = '';
  #data: string[] = [];
  #dataChars = 0;

  /** @param maxEventChars - Longest event accepted, against an endpoint that never ends one. */
  constructor(maxEventChars: number) {
    this.#maxEventChars = maxEventChars;
  }

  /** Adds decoded text and returns the data of each event it completes. */
  push(text: string): string[] {
    this.#buffer += text;
    const events: string[] = [];
    let lineEnd: RegExpExecArray | null;
    while ((lineEnd = /\r\n|\r(?=[^\n])|\n/.exec(this.#buffer)) !== null) {
      const line = this.#buffer.slice(0, lineEnd.index);
      this.#buffer = this.#buffer.slice(lineEnd.index + lineEnd[0].length);
      const event = this.#takeLine(line);
      if (event !== undefined) events.push(event);
    }
    this.#checkSize();
    return events;
  }

  /** Ends the stream, returning the last event even without its closing blank line. */
  end(): string[] {
    const line = this.#buffer.replace(/\r$/, '');
    this.#buffer = '';
    const events = line === '' ? [] : [this.#takeLine(line)];
    const last = this.#takeLine('');
    return [...events, last].filter((event): event is string => event !== undefined);
  }

  #takeLine(line: string): string | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;

    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return undefined;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.#data.push(value);
    this.#dataChars += value.length;
    return undefined;
  }

  #dispatch(): string | undefined {
    if (this.#data.length === 0) return undefined;
    const data = this.#data.join('\n');
    this.#data = [];
    this.#dataChars = 0;
    return data;
  }

  #checkSize(): void {
    if (this.#buffer.length + this.#dataChars <= this.#maxEventChars) return;
    throw new GeneratorFailedError(
      `event stream event must be at most ${this.#maxEventChars} characters, got more; ` +
        'check that the base URL points at a chat completions endpoint',
    );
  }
}

/**
 * Yields the data of each event of a byte stream, decoding UTF-8 across chunk boundaries.
 * `onBytes` runs for every chunk received, so a caller can watch for idle gaps.
 */
export async function* readEventData(
  body: AsyncIterable<Uint8Array>,
  options: { maxEventChars: number; onBytes?: () => void },
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const parser = new EventStreamParser(options.maxEventChars);
  for await (const bytes of body) {
    options.onBytes?.();
    yield* parser.push(decoder.decode(bytes, { stream: true }));
  }
  yield* parser.push(decoder.decode());
  yield* parser.end();
}
