import type { Chunk, DocumentInfo } from '../ingest/types.js';

/** A document with its chunks, in memory and in snapshots. Records are replaced, never mutated. */
export interface StoredDocument {
  info: DocumentInfo;
  chunks: readonly Chunk[];
  /** Embedding model of the document's vectors. */
  model: string;
}

/** One line of the chunk store file: a document, its chunks and their FAISS labels. */
interface DocumentLine {
  document: DocumentInfo;
  model: string;
  chunks: Chunk[];
  labels: number[];
}

/** File names inside a snapshot generation. */
export const INDEX_FILE = 'index.faiss';
export const DOCUMENTS_FILE = 'documents.jsonl';

/** Yields the chunk store as JSON lines, one document per line, each with its chunks' labels. */
export function* encodeDocuments(
  documents: readonly StoredDocument[],
  labels: ReadonlyMap<number, string>,
): Generator<string> {
  const labelOf = new Map<string, number>();
  for (const [label, chunkId] of labels) labelOf.set(chunkId, label);
  for (const { info, chunks, model } of documents) {
    const line: DocumentLine = {
      document: info,
      model,
      chunks: [...chunks],
      labels: chunks.map((chunk) => labelOf.get(chunk.id) ?? -1),
    };
    yield JSON.stringify(line) + '\n';
  }
}

/** Parses the chunk store back into documents and the label map of their chunks. */
export function decodeDocuments(data: Buffer): {
  documents: StoredDocument[];
  labels: Map<number, string>;
} {
  const documents: StoredDocument[] = [];
  const labels = new Map<number, string>();
  for (const text of data.toString('utf8').split('\n')) {
    if (text === '') continue;
    const line = JSON.parse(text) as DocumentLine;
    line.chunks.forEach((chunk, i) => {
      const label = line.labels[i];
      if (label === undefined || label < 0) {
        throw new Error(`chunk ${chunk.id} has no label in ${DOCUMENTS_FILE}`);
      }
      labels.set(label, chunk.id);
    });
    documents.push({ info: line.document, chunks: line.chunks, model: line.model });
  }
  return { documents, labels };
}
