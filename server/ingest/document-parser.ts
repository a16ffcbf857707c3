import type { Logger } from '../core/logger.js';
import type { WorkerBusyTime } from '../core/busy-time.js';
import { silentLogger } from '../core/logger.js';
import { ValidationError } from '../core/errors.js';
import type { DocumentType, ParsedPage } from './types.js';
import { DocumentTooLargeError } from './errors.js';
import { detectDocumentType } from './document-type.js';
import { ParserPool, PARSER_POOL_DEFAULTS, parserPoolOptionProblems } from './parser-pool.js';

/** A document to parse: its bytes and the name it was uploaded under. */
export interface DocumentInput {
  name: string;
  data: Uint8Array;
  /** Overrides detection from the name and the bytes. */
  type?: DocumentType;
  /** User password of an encrypted PDF. */
  password?: string;
}

/** Limits and hooks of one parse; defaults in {@link PARSE_DEFAULTS}. */
export interface ParseOptions {
  /** Largest accepted file in bytes. */
  maxBytes?: number;
  /** Largest accepted PDF page count. */
  maxPages?: number;
  /** Deadline of one document's parse in milliseconds, from the moment a worker takes it. */
  timeoutMs?: number;
  /**
   * Letters and digits per page, averaged over a PDF, below which a PDF whose sparse pages
   * paint an image counts as a scan without text.
   */
  minCharsPerPage?: number;
  /** Called after each PDF page with the pages done and the total; once for a text file. */
  onPage?: (done: number, total: number) => void;
}

/** Defaults of {@link ParseOptions}: 100 MiB, 5,000 pages, 120 s, 16 characters per page. */
export const PARSE_DEFAULTS = {
  maxBytes: 100 * 1024 * 1024,
  maxPages: 5000,
  timeoutMs: 120_000,
  minCharsPerPage: 16,
} as const;

/** Options of {@link DocumentParser}; workers as in {@link PARSER_POOL_DEFAULTS}. */
export interface DocumentParserOptions {
  /** Parse worker threads; each parses one document at a time. */
  workers?: number;
  /** V8 heap limit of each parse worker in megabytes. */
  memoryLimitMb?: number;
  /** Defaults for every parse; a call's own options win. */
  defaults?: ParseOptions;
  logger?: Logger;
}

/** Outcome of one document of a batch: its pages, or the error that failed it alone. */
export type ParseResult =
  | { name: string; ok: true; type: DocumentType; pages: ParsedPage[] }
  | { name: string; ok: false; error: Error };

/**
 * Parses PDF, plain text and Markdown documents into pages, in worker threads under a deadline
 * and a heap limit, so no document can stall the caller's event loop. Safe to call
 * concurrently, because documents queue for the workers. Call {@link close} when done.
 */
export class DocumentParser {
  private readonly pool: ParserPool;
  private readonly defaults: Required<Omit<ParseOptions, 'onPage'>>;
  private readonly logger: Logger;

  constructor(options: DocumentParserOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.defaults = { ...PARSE_DEFAULTS, ...withoutUndefined(options.defaults ?? {}) };
    const workers = options.workers ?? PARSER_POOL_DEFAULTS.workers;
    const memoryLimitMb = options.memoryLimitMb ?? PARSER_POOL_DEFAULTS.memoryLimitMb;
    const problems = [
      ...limitProblems(this.defaults),
      ...parserPoolOptionProblems(workers, memoryLimitMb),
    ];
    if (problems.length > 0) throw new ValidationError(problems);
    this.pool = new ParserPool({ workers, memoryLimitMb, logger: this.logger });
  }

  /** Time the parse workers have spent on documents, for the server's load report. */
  busyTime(): WorkerBusyTime {
    return this.pool.busyTime();
  }

  /**
   * Parses one document. Throws EncryptedDocumentError, InvalidDocumentError,
   * NoExtractableTextError, DocumentTooLargeError, ParseTimeoutError or ParserFailedError.
   */
  async parse(document: DocumentInput, options: ParseOptions = {}): Promise<ParsedPage[]> {
    const limits = { ...this.defaults, ...withoutUndefined(options) };
    const problems = limitProblems(limits);
    if (problems.length > 0) throw new ValidationError(problems);
    if (document.data.length > limits.maxBytes) {
      throw new DocumentTooLargeError('bytes', limits.maxBytes, document.data.length);
    }
    return this.pool.parse(document.data, {
      type: document.type ?? detectDocumentType(document.name, document.data),
      password: document.password,
      maxPages: limits.maxPages,
      minCharsPerPage: limits.minCharsPerPage,
      timeoutMs: limits.timeoutMs,
      onPage: options.onPage,
    });
  }

  /**
   * Parses a batch concurrently. Each document succeeds or fails alone: a result per input, in
   * input order, never a rejection for one bad file.
   */
  parseMany(documents: DocumentInput[], options: ParseOptions = {}): Promise<ParseResult[]> {
    return Promise.all(documents.map((document) => this.parseSettled(document, options)));
  }

  /** Terminates the PDF workers; pending parses fail. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private async parseSettled(document: DocumentInput, options: ParseOptions): Promise<ParseResult> {
    const { name } = document;
    try {
      const type = document.type ?? detectDocumentType(name, document.data);
      const pages = await this.parse({ ...document, type }, options);
      return { name, ok: true, type, pages };
    } catch (error) {
      this.logger.info({ err: error, document: name }, 'document failed to parse');
      return { name, ok: false, error: error as Error };
    }
  }
}

type Limits = Required<Omit<ParseOptions, 'onPage'>>;

function limitProblems(limits: Limits): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(limits)) {
    const allowsZero = key === 'minCharsPerPage';
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowsZero)) {
      const rule = allowsZero ? 'a non-negative number' : 'a positive number';
      problems.push(`${key} must be ${rule}, got ${value}`);
    }
  }
  return problems;
}

function withoutUndefined(options: ParseOptions): Partial<Limits> {
  const { maxBytes, maxPages, timeoutMs, minCharsPerPage } = options;
  const entries = Object.entries({ maxBytes, maxPages, timeoutMs, minCharsPerPage });
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}
