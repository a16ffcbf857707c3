import { open, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ValidationError } from '../core/errors.js';
import type { ConversationTurnRecord } from './types.js';

/** One question or answer of a conversation. */
export type ConversationTurn = Omit<ConversationTurnRecord, 'type'>;

/**
 * Storage for conversations, shared by every stream server, so a client moved to another server
 * resumes its conversation there.
 */
export interface ConversationStore {
  /** Appends a turn to its conversation; resolves once the turn is durable. */
  append(turn: ConversationTurn): Promise<void>;
  /** The newest `limit` turns of a conversation, oldest first; empty for an unknown one. */
  history(conversationId: string, limit?: number): Promise<ConversationTurn[]>;
  close(): Promise<void>;
}

const CONVERSATION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Throws ValidationError unless `conversationId` is usable as a file name and a NATS key. */
export function checkConversationId(conversationId: string): void {
  if (CONVERSATION_ID.test(conversationId)) return;
  throw new ValidationError([
    `conversationId must be 1 to 128 letters, digits, '-' or '_', got ${JSON.stringify(conversationId)}`,
  ]);
}

/** Options for {@link FileConversationStore}. */
export interface FileConversationStoreOptions {
  /** Directory of the conversation files; created when missing. */
  directory: string;
}

/**
 * Conversations for one machine: one file of JSON lines per conversation. Each turn is one
 * O_APPEND write followed by fdatasync; Linux applies an O_APPEND write to a local file as a
 * whole, so stream servers on the same machine may append to the same conversation.
 */
export class FileConversationStore implements ConversationStore {
  readonly directory: string;

  constructor(options: FileConversationStoreOptions) {
    this.directory = options.directory;
  }

  async append(turn: ConversationTurn): Promise<void> {
    checkConversationId(turn.conversationId);
    await mkdir(this.directory, { recursive: true });
    const file = await open(this.#path(turn.conversationId), 'a');
    try {
      await file.write(JSON.stringify(turn) + '\n');
      await file.datasync();
    } finally {
      await file.close();
    }
  }

  async history(conversationId: string, limit = Infinity): Promise<ConversationTurn[]> {
    checkConversationId(conversationId);
    let text: string;
    try {
      text = await readFile(this.#path(conversationId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    // A crash mid-write can leave the last line incomplete; it was never acknowledged.
    const turns = text.split('\n').flatMap((line) => parseTurn(line));
    return limit >= turns.length ? turns : turns.slice(turns.length - limit);
  }

  async close(): Promise<void> {}

  #path(conversationId: string): string {
    return join(this.directory, `${conversationId}.jsonl`);
  }
}

function parseTurn(line: string): ConversationTurn[] {
  if (!line) return [];
  try {
    return [JSON.parse(line) as ConversationTurn];
  } catch {
    return [];
  }
}
