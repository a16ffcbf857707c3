// Public surface of the replicated document log.
export type {
  ConversationTurnRecord,
  DocumentDeleteRecord,
  DocumentLog,
  DocumentPutRecord,
  LogEntry,
  LogRecord,
} from './types.js';
export { AppliedSequence } from './applied-sequence.js';
export { decodeRecord, encodeRecord } from './codec.js';
export { LogCorruptError, LogUnavailableError, SequenceNotAppliedError } from './errors.js';
export { FileLog, type FileLogOptions } from './file-log.js';
export { NatsLog, type NatsLogOptions } from './nats-log.js';
export { DeferredNatsLog, openNatsLog, type OpenNatsLogOptions } from './deferred-nats-log.js';
