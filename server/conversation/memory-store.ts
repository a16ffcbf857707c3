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

/** A conversation and its retained turns, oldest first. */
export interface ConversationEntry {
  conversationId: string;
  turns: ConversationTurn[];
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
    turns.push(this.#truncated(turn));
    if (turns.length > this.#maxTurns) turns.splice(0, turns.length - this.#maxTurns);
    this.#conversations.set(conversationId, turns);
    this.#evictOverflow();
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

  /** Returns a copy of every conversation, least recently used first. */
  entries(): ConversationEntry[] {
    return Array.from(this.#conversations, ([conversationId, turns]) => ({
      conversationId,
      turns: turns.map((turn) => ({ ...turn })),
    }));
  }

  /**
   * Replaces every conversation with `entries`, given least recently used first as
   * {@link entries} returns them. This store's limits apply: a conversation keeps its newest
   * `maxTurns` turns, long texts are cut, and past `maxConversations` the least recently used
   * entries are dropped. A conversation id given twice keeps its last entry.
   */
  restore(entries: Iterable<ConversationEntry>): void {
    this.#conversations.clear();
    for (const { conversationId, turns } of entries) {
      this.#conversations.delete(conversationId);
      if (turns.length === 0) continue;
      const kept = turns.slice(-this.#maxTurns).map((turn) => this.#truncated(turn));
      this.#conversations.set(conversationId, kept);
      this.#evictOverflow();
    }
  }

  #truncated(turn: ConversationTurn): ConversationTurn {
    return { ...turn, text: turn.text.slice(0, this.#maxTurnChars) };
  }

  #evictOverflow(): void {
    while (this.#conversations.size > this.#maxConversations) {
      const oldest = this.#conversations.keys().next().value as string;
      this.#conversations.delete(oldest);
    }
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
