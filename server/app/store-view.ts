import type { DocumentStore } from '../index/document-store.js';
import type { IndexView } from './ports.js';

/** Adapts the persistent document store to the service's view of an index. */
export function storeView(store: DocumentStore): IndexView {
  return {
    get lastAppliedSeq() {
      return store.lastAppliedSeq;
    },
    apply: async (entry) => {
      await store.apply(entry);
    },
    search: async (vector, k) => {
      const hits = await store.search(vector, k);
      return hits.map((hit) => ({
        score: hit.score,
        chunk: hit.chunk,
        documentName: hit.document.name,
      }));
    },
    findDocument: (documentId) => store.getDocument(documentId),
    listDocuments: () => store.listDocuments(),
    counts: () => ({ documents: store.documentCount, chunks: store.chunkCount }),
    conversationHistory: (conversationId) => store.conversationHistory(conversationId),
    snapshot: async () => {
      await store.snapshot();
    },
  };
}
