import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

import { LogUnavailableError } from './errors.js';
import {
  checkConversationId,
  type ConversationStore,
  type ConversationTurn,
} from './conversation-store.js';

/** Options for {@link NatsConversationStore.open}. */
export interface NatsConversationStoreOptions {
  /** Connection to use; the store does not close it. */
  connection: NatsConnection;
  /** Key-value bucket; default `streamcluster-conversations`. */
  bucket?: string;
  /** Copies JetStream keeps when it creates the bucket; default 1. */
  replicas?: number;
  /** Turns kept per conversation, oldest dropped first; default 200. */
  maxTurns?: number;
}

/** Attempts of one append when other servers update the same conversation at the same time. */
const MAX_UPDATE_ATTEMPTS = 20;

/**
 * Conversations in a JetStream key-value bucket: one key per conversation whose value is its
 * recent turns. Appends are compare-and-set on the key's revision, so concurrent appends from
 * several servers all land.
 */
export class NatsConversationStore implements ConversationStore {
  readonly #kv: KV;
  readonly #maxTurns: number;

  private constructor(kv: KV, maxTurns: number) {
    this.#kv = kv;
    this.#maxTurns = maxTurns;
  }

  /** Opens the bucket, creating it when missing. */
  static async open(options: NatsConversationStoreOptions): Promise<NatsConversationStore> {
    const bucket = options.bucket ?? 'streamcluster-conversations';
    try {
      const kv = await new Kvm(options.connection).create(bucket, {
        replicas: options.replicas ?? 1,
        history: 1,
        storage: 'file',
      });
      return new NatsConversationStore(kv, options.maxTurns ?? 200);
    } catch (error) {
      throw unavailable(`opening key-value bucket ${bucket}`, error);
    }
  }

  async append(turn: ConversationTurn): Promise<void> {
    checkConversationId(turn.conversationId);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#appendOnce(turn);
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= MAX_UPDATE_ATTEMPTS) {
          throw unavailable(`appending to conversation ${turn.conversationId}`, error);
        }
      }
    }
  }

  async history(conversationId: string, limit = Infinity): Promise<ConversationTurn[]> {
    checkConversationId(conversationId);
    try {
      const turns = (await this.#kv.get(conversationId))?.json<ConversationTurn[]>() ?? [];
      return limit >= turns.length ? turns : turns.slice(turns.length - limit);
    } catch (error) {
      throw unavailable(`reading conversation ${conversationId}`, error);
    }
  }

  async close(): Promise<void> {}

  async #appendOnce(turn: ConversationTurn): Promise<void> {
    const entry = await this.#kv.get(turn.conversationId);
    const turns = entry?.operation === 'PUT' ? entry.json<ConversationTurn[]>() : [];
    turns.push(turn);
    const value = JSON.stringify(turns.slice(-this.#maxTurns));
    if (entry) await this.#kv.update(turn.conversationId, value, entry.revision);
    else await this.#kv.create(turn.conversationId, value);
  }
}

function isConflict(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function unavailable(what: string, cause: unknown): LogUnavailableError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new LogUnavailableError(
    `${what} in NATS failed${reason}; check that the NATS servers are running, then retry`,
    { cause },
  );
}
