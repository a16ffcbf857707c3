import { ValidationError } from '../core/errors.js';
import type { ConversationStore, ConversationTurn } from './store.js';

/** Options for {@link MemoryConversationStore}. */
export interface MemoryConversationStoreOptions {
  /** Turns kept per conversation (a question and its answer are two); default 10. */
  maxTurns?: number;
  /** Conversations kept; past it the least recently used one is dropped. Default 10,000. */
  maxConversations?: number;
  /** A longer turn text is cut to this many UTF-16 code units; default 4,000. */
  maxTurnChars?: number;
}

export const MEMORY_STORE_DEFAULTS = {
  maxTurns: 10,
  maxConversations: 10_000,
  maxTurnChars: 4_000,
} as const;

/**
 * Conversation history in this process's memory, bounded in turns per conversation, in
 * conversations, and in text per turn, so that memory use has a fixed ceiling.
 */
export class MemoryConversationStore implements ConversationStore {
  readonly #maxTurns: number;
  readonly #maxConversations: number;
  readonly #maxTurnChars: number;
  // A Map iterates in insertion order; re-inserting on use keeps the least recently used first.
  readonly #conversations = new Map<string, ConversationTurn[]>();

  constructor(options: MemoryConversationStoreOptions = {}) {
    this.#maxTurns = options.maxTurns ?? MEMORY_STORE_DEFAULTS.maxTurns;
    this.#maxConversations = options.maxConversations ?? MEMORY_STORE_DEFAULTS.maxConversations;
    this.#maxTurnChars = options.maxTurnChars ?? MEMORY_STORE_DEFAULTS.maxTurnChars;
    validateLimits(this.#maxTurns, this.#maxConversations, this.#maxTurnChars);
  }

  /** Number of conversations held. */
  get size(): number {
    return this.#conversations.size;
  }

  async append(conversationId: string, turn: ConversationTurn): Promise<void> {
    const turns = this.#conversations.get(conversationId) ?? [];
    this.#conversations.delete(conversationId);
    turns.push({ ...turn, text: turn.text.slice(0, this.#maxTurnChars) });
    if (turns.length > this.#maxTurns) turns.splice(0, turns.length - this.#maxTurns);
    this.#conversations.set(conversationId, turns);

    if (this.#conversations.size > this.#maxConversations) {
      const oldest = this.#conversations.keys().next().value as string;
      this.#conversations.delete(oldest);
    }
  }

  async history(conversationId: string): Promise<ConversationTurn[]> {
    const turns = this.#conversations.get(conversationId);
    if (!turns) return [];
    this.#conversations.delete(conversationId);
    this.#conversations.set(conversationId, turns);
    return turns.map((turn) => ({ ...turn }));
  }

  async delete(conversationId: string): Promise<void> {
    this.#conversations.delete(conversationId);
  }
}

function validateLimits(maxTurns: number, maxConversations: number, maxTurnChars: number): void {
  const problems: string[] = [];
  for (const [name, value] of Object.entries({ maxTurns, maxConversations, maxTurnChars })) {
    if (!Number.isInteger(value) || value < 1) {
      problems.push(`${name} must be a positive integer, got ${value}`);
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
}
