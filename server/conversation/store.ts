import type { HistoryTurn } from '../answer/types.js';

/** A turn as stored: who spoke, what, and when. */
export interface ConversationTurn extends HistoryTurn {
  /** Milliseconds since the epoch. */
  at: number;
}

/**
 * The history of each conversation, bounded to its most recent turns. Methods are
 * asynchronous so that a store replicated through the document log fits the same interface.
 */
export interface ConversationStore {
  /** Appends a turn, dropping the oldest ones past the store's limit. */
  append(conversationId: string, turn: ConversationTurn): Promise<void>;
  /** Returns the retained turns, oldest first; empty for an unknown conversation. */
  history(conversationId: string): Promise<ConversationTurn[]>;
  /** Forgets a conversation. */
  delete(conversationId: string): Promise<void>;
}
