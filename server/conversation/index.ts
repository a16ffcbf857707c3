export type { ConversationStore, ConversationTurn } from './store.js';
export {
  MemoryConversationStore,
  MEMORY_STORE_DEFAULTS,
  type ConversationEntry,
  type MemoryConversationStoreOptions,
} from './memory-store.js';
export { isFollowUp, resolveRetrievalQuery, type FollowUpOptions } from './follow-up.js';
