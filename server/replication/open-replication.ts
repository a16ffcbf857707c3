import { join } from 'node:path';

import { FileConversationStore, type ConversationStore } from './conversation-store.js';
import { FileLog, type FileLogOptions } from './file-log.js';
import { NatsConversationStore } from './nats-conversation-store.js';
import { NatsLog, type NatsLogOptions } from './nats-log.js';
import type { DocumentLog } from './types.js';

/** Settings of the file backend: everything lives under `directory`. */
export interface FileReplicationConfig extends Omit<FileLogOptions, 'directory'> {
  backend: 'file';
  /** Root of the log (`<directory>/log`) and the conversations (`<directory>/conversations`). */
  directory: string;
}

/** Settings of the NATS backend; the conversation bucket gets the stream's replica count. */
export interface NatsReplicationConfig extends NatsLogOptions {
  backend: 'nats';
  /** Key-value bucket of the conversations; default `streamcluster-conversations`. */
  conversationBucket?: string;
}

export type ReplicationConfig = FileReplicationConfig | NatsReplicationConfig;

/** The document log and the conversation store of one backend. */
export interface Replication {
  log: DocumentLog;
  conversations: ConversationStore;
  /** Closes the log and, for NATS, the connection the conversation store shares with it. */
  close(): Promise<void>;
}

/** Opens the log and the conversation store that `config` names. */
export async function openReplication(config: ReplicationConfig): Promise<Replication> {
  if (config.backend === 'file') {
    const log = await FileLog.open({ ...config, directory: join(config.directory, 'log') });
    const conversations = new FileConversationStore({
      directory: join(config.directory, 'conversations'),
    });
    return { log, conversations, close: () => log.close() };
  }
  const log = await NatsLog.connect(config);
  try {
    const conversations = await NatsConversationStore.open({
      connection: log.connection,
      bucket: config.conversationBucket,
      replicas: config.replicas,
    });
    return { log, conversations, close: () => log.close() };
  } catch (error) {
    await log.close();
    throw error;
  }
}
