import type { ConversationEntry } from '../conversation/index.js';

/** File name of the conversation history inside a snapshot generation. */
export const CONVERSATIONS_FILE = 'conversations.jsonl';

const NEWLINE = 0x0a;

/**
 * Yields the conversations as JSON lines, one conversation per line, in the order given.
 *
 * NOTE: JSON escapes control characters and lone surrogates as six bytes each. Texts made of
 * them could grow the file past 2 GiB at the default limits, and fs.readFile rejects such a file,
 * so the generation would not load and the server would fall back to an older one or the log.
 */
export function* encodeConversations(entries: readonly ConversationEntry[]): Generator<string> {
  for (const { conversationId, turns } of entries) {
    const line: ConversationEntry = {
      conversationId,
      turns: turns.map(({ role, text, at }) => ({ role, text, at })),
    };
    yield JSON.stringify(line) + '\n';
  }
}

/**
 * Parses the conversation file back into entries, in file order. Each line is decoded on its
 * own, so no string of the whole file is built: at the store's default limits the file can
 * exceed 1 GiB, and Node 20 caps a string at 2^29 - 24 UTF-16 code units.
 */
export function decodeConversations(data: Buffer): ConversationEntry[] {
  const entries: ConversationEntry[] = [];
  let start = 0;
  for (let lineNumber = 1; start < data.length; lineNumber++) {
    let end = data.indexOf(NEWLINE, start);
    if (end === -1) end = data.length;
    if (end > start) entries.push(parseLine(data.toString('utf8', start, end), lineNumber));
    start = end + 1;
  }
  return entries;
}

function parseLine(text: string, lineNumber: number): ConversationEntry {
  const problem = (reason: string) =>
    new Error(`line ${lineNumber} of ${CONVERSATIONS_FILE} is invalid: ${reason}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw problem((error as Error).message);
  }

  const entry = value as Partial<ConversationEntry> | null;
  if (typeof entry?.conversationId !== 'string') {
    throw problem('conversationId must be a string');
  }
  if (!Array.isArray(entry.turns)) throw problem('turns must be an array');
  for (const turn of entry.turns as unknown[]) {
    const { role, text: turnText, at } = (turn ?? {}) as Record<string, unknown>;
    if (role !== 'user' && role !== 'assistant') {
      throw problem(`role must be user or assistant, got ${JSON.stringify(role)}`);
    }
    if (typeof turnText !== 'string') throw problem('text must be a string');
    if (typeof at !== 'number' || !Number.isFinite(at)) throw problem('at must be a number');
  }
  return { conversationId: entry.conversationId, turns: entry.turns };
}
