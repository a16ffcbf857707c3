import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { StreamClusterClient } from '../../client/client.js';
import { StreamClusterClientError } from '../../client/errors.js';
import type { Citation } from '../../client/types.js';
import {
  formatHelp,
  integer,
  list,
  parseArgs,
  resolveConfig,
  text,
  type Settings,
} from '../core/config.js';
import { ProgressBoard } from './progress.js';

/** Formats a count with its noun, as in "1 page" and "3 pages". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Exit codes scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** Some documents failed; the others were ingested. */
  partialFailure: 1,
  /** A long-running command could not start, such as a server whose port is in use. */
  failure: 1,
  usage: 2,
  /** No connection to any server. */
  unavailable: 3,
} as const;

/** Parses comma-separated WebSocket URLs, rejecting anything but ws:// and wss://. */
function webSocketUrls(raw: string): string[] {
  const urls = list(raw);
  const invalid = urls.filter((url) => !/^wss?:\/\/[^/\s]/.test(url) || !URL.canParse(url));
  if (urls.length === 0 || invalid.length > 0) {
    const quoted = invalid.map((url) => JSON.stringify(url)).join(', ') || 'an empty list';
    throw new Error(`must be ws://host:port or wss://host:port URLs, and ${quoted} is not`);
  }
  return urls;
}

const connectionSettings = {
  urls: {
    flag: 'url',
    env: 'STREAMCLUSTER_URL',
    help: 'WebSocket URL of a balancer or server; several comma-separated URLs form a failover pool.',
    default: ['ws://127.0.0.1:8080'],
    parse: webSocketUrls,
  },
  token: {
    flag: 'token',
    env: 'STREAMCLUSTER_TOKEN',
    help: 'Bearer token, when the server requires one.',
    default: '',
    parse: text,
    secret: true,
  },
} satisfies Settings;

const ingestSettings = {
  ...connectionSettings,
  password: { flag: 'password', help: 'Password for encrypted PDFs.', default: '', parse: text },
  concurrency: {
    flag: 'concurrency',
    help: 'Documents uploaded at once.',
    default: 2,
    parse: integer(1, 16),
  },
} satisfies Settings;

const askSettings = {
  ...connectionSettings,
  k: {
    flag: 'k',
    help: 'Chunks retrieved to ground the answer.',
    default: 5,
    parse: integer(1, 100),
  },
  conversation: {
    flag: 'conversation',
    help: 'Conversation id, to ask a follow-up question.',
    default: '',
    parse: text,
  },
} satisfies Settings;

const searchSettings = {
  ...connectionSettings,
  k: { flag: 'k', help: 'Number of chunks returned.', default: 5, parse: integer(1, 100) },
} satisfies Settings;

function usage(command: string, synopsis: string, settings: Settings): string {
  return `usage: streamcluster ${command} ${synopsis}\n\nflags:\n${formatHelp(settings)}\n`;
}

function connect(config: { urls: string[]; token: string }): StreamClusterClient {
  return new StreamClusterClient({
    urls: config.urls,
    token: config.token || undefined,
    reconnect: { maxAttempts: 5 },
  });
}

/** `streamcluster ingest FILE...`: uploads documents with a progress bar each. */
export async function ingestCommand(argv: string[]): Promise<number> {
  const help = usage('ingest', 'FILE...', ingestSettings);
  const { flags, positionals } = parseArgs(argv, ingestSettings, ['help']);
  if (flags.has('help')) return print(help, ExitCode.ok);
  if (positionals.length === 0)
    return print(`missing FILE: name at least one document\n\n${help}`, ExitCode.usage, true);
  const config = resolveConfig(ingestSettings, flags);
  const client = connect(config);
  const board = new ProgressBoard();
  let failures = 0;
  const queue = [...positionals];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const name = basename(file);
      try {
        const bytes = await readDocument(file);
        const result = await client.ingest(bytes, {
          name,
          password: config.password || undefined,
          onProgress: (stage, done, total) => board.update(name, stage, done, total),
        });
        const note = result.duplicate ? ' (already indexed)' : '';
        board.finish(
          name,
          `${name}: ${count(result.pages, 'page')}, ${count(result.chunks, 'chunk')}, ` +
            `seq ${result.seq}${note}`,
        );
        process.stdout.write(`${result.documentId}  ${file}\n`);
      } catch (error) {
        failures++;
        board.finish(name, `${name}: failed: ${describe(error)}`);
        if (isUnavailable(error)) queue.length = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  // The client closes itself only when it gave up connecting; read that before closing it here.
  const unreachable = client.state === 'closed';
  client.close();
  if (failures === 0) return ExitCode.ok;
  return unreachable ? ExitCode.unavailable : ExitCode.partialFailure;
}

/**
 * Reads a document for upload, turning the file system's errors into messages that name the
 * path, and rejecting an empty file before the server's size rule would.
 */
async function readDocument(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new StreamClusterClientError('FILE_UNREADABLE', `${file}: ${reason}`, { cause: error });
  }
  if (bytes.length === 0) {
    throw new StreamClusterClientError('FILE_EMPTY', `${file}: file is empty; nothing to ingest`);
  }
  return bytes;
}

/** `streamcluster ask "QUESTION"`: prints the answer's tokens as they arrive, then citations. */
export async function askCommand(argv: string[]): Promise<number> {
  const help = usage('ask', '"QUESTION"', askSettings);
  const { flags, positionals } = parseArgs(argv, askSettings, ['help']);
  if (flags.has('help')) return print(help, ExitCode.ok);
  if (positionals.join('').trim() === '') {
    return print(`missing QUESTION\n\n${help}`, ExitCode.usage, true);
  }
  const config = resolveConfig(askSettings, flags);
  const client = connect(config);
  try {
    let citations: Citation[] = [];
    for await (const event of client.ask(positionals.join(' '), {
      k: config.k,
      conversationId: config.conversation || undefined,
    })) {
      if (event.type === 'answer.token') process.stdout.write(event.text);
      else if (event.type === 'answer.citations') citations = event.citations;
      else if (event.type === 'answer.done') {
        process.stdout.write('\n');
        for (const citation of citations) process.stdout.write(`${formatCitation(citation)}\n`);
        process.stderr.write(
          `conversation ${event.conversationId}; first token ${event.timings.firstTokenMs} ms\n`,
        );
      }
    }
    return ExitCode.ok;
  } catch (error) {
    process.stderr.write(`ask failed: ${describe(error)}\n`);
    return isUnavailable(error) ? ExitCode.unavailable : ExitCode.partialFailure;
  } finally {
    client.close();
  }
}

/** `streamcluster search "QUERY"`: prints the top-k chunks with score and pages. */
export async function searchCommand(argv: string[]): Promise<number> {
  const help = usage('search', '"QUERY"', searchSettings);
  const { flags, positionals } = parseArgs(argv, searchSettings, ['help']);
  if (flags.has('help')) return print(help, ExitCode.ok);
  if (positionals.join('').trim() === '') {
    return print(`missing QUERY\n\n${help}`, ExitCode.usage, true);
  }
  const config = resolveConfig(searchSettings, flags);
  const client = connect(config);
  try {
    const { hits } = await client.search(positionals.join(' '), { k: config.k });
    if (hits.length === 0) process.stdout.write('no documents match; ingest some first\n');
    for (const hit of hits) {
      const pages =
        hit.pageStart === hit.pageEnd
          ? `p. ${hit.pageStart}`
          : `pp. ${hit.pageStart}-${hit.pageEnd}`;
      process.stdout.write(
        `${hit.score.toFixed(3)}  ${hit.documentName} ${pages}\n    ${oneLine(hit.text, 200)}\n`,
      );
    }
    return ExitCode.ok;
  } catch (error) {
    process.stderr.write(`search failed: ${describe(error)}\n`);
    return isUnavailable(error) ? ExitCode.unavailable : ExitCode.partialFailure;
  } finally {
    client.close();
  }
}

/** Formats a citation as `[n] name, p. 3: "quote"`. */
export function formatCitation(citation: Citation): string {
  const pages =
    citation.pageStart === citation.pageEnd
      ? `p. ${citation.pageStart}`
      : `pp. ${citation.pageStart}-${citation.pageEnd}`;
  return `[${citation.index}] ${citation.documentName}, ${pages}: "${oneLine(citation.quote, 160)}"`;
}

function oneLine(value: string, max: number): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

function describe(error: unknown): string {
  if (error instanceof StreamClusterClientError) return `${error.message} (${error.code})`;
  return (error as Error).message ?? String(error);
}

function isUnavailable(error: unknown): boolean {
  return (
    error instanceof StreamClusterClientError &&
    ['RECONNECT_FAILED', 'UNAUTHORIZED', 'CONNECT_FAILED'].includes(error.code)
  );
}

function print(message: string, code: number, toStderr = false): number {
  (toStderr ? process.stderr : process.stdout).write(message);
  return code;
}
