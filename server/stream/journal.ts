import type { ServerEvent } from './protocol.js';

/** An event of a journaled operation with its offset, numbered from 1. */
export interface JournaledEvent {
  offset: number;
  event: ServerEvent;
}

type Listener = (entry: JournaledEvent | 'end') => void;

/** One answer's events, kept after its connection closes so a reconnecting client can resume. */
export class JournalEntry {
  readonly events: JournaledEvent[] = [];
  readonly controller = new AbortController();
  finished = false;
  private readonly listeners = new Set<Listener>();

  append(event: ServerEvent): void {
    const entry = { offset: this.events.length + 1, event };
    this.events.push(entry);
    for (const listener of this.listeners) listener(entry);
  }

  finish(): void {
    this.finished = true;
    for (const listener of this.listeners) listener('end');
    this.listeners.clear();
  }

  /**
   * Replays the events after `afterOffset` to the listener, then forwards new ones until the
   * entry finishes. Returns the function that detaches the listener.
   */
  subscribe(afterOffset: number, listener: Listener): () => void {
    for (const entry of this.events) {
      if (entry.offset > afterOffset) listener(entry);
    }
    if (this.finished) {
      listener('end');
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** Options for {@link OperationJournal}. */
export interface JournalOptions {
  /** How long a finished answer stays available for resuming. Default 120000 ms. */
  retainMs?: number;
  /** Most entries kept; the oldest finished ones go first. Default 10000. */
  maxEntries?: number;
}

/**
 * Answers in flight and recently finished, by conversation and operation id. A client that lost
 * its connection asks again with the same ids and `resumeAfter`, and gets the rest of the same
 * event sequence, even while the answer is still being generated.
 */
export class OperationJournal {
  private readonly entries = new Map<string, { entry: JournalEntry; finishedAt?: number }>();
  private readonly retainMs: number;
  private readonly maxEntries: number;

  constructor(
    options: JournalOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.retainMs = options.retainMs ?? 120_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  get(conversationId: string, op: string): JournalEntry | undefined {
    this.expire();
    return this.entries.get(key(conversationId, op))?.entry;
  }

  create(conversationId: string, op: string): JournalEntry {
    this.expire();
    const entry = new JournalEntry();
    const record: { entry: JournalEntry; finishedAt?: number } = { entry };
    this.entries.set(key(conversationId, op), record);
    const finish = entry.finish.bind(entry);
    entry.finish = () => {
      record.finishedAt = this.now();
      finish();
    };
    return entry;
  }

  /** Aborts every unfinished answer, for shutdown. */
  abortAll(): void {
    for (const { entry } of this.entries.values()) entry.controller.abort();
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(): void {
    const cutoff = this.now() - this.retainMs;
    for (const [id, record] of this.entries) {
      const overFull = this.entries.size > this.maxEntries;
      if (record.finishedAt !== undefined && (record.finishedAt < cutoff || overFull)) {
        this.entries.delete(id);
      }
    }
  }
}

function key(conversationId: string, op: string): string {
  return `${conversationId}\u0000${op}`;
}
