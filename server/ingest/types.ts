/** Kinds of document the ingester accepts. */
export type DocumentType = 'pdf' | 'text' | 'markdown';

/** One page of extracted text. Text and Markdown files are one page each. */
export interface ParsedPage {
  /** 1-based page number as a reader of the document counts it. */
  pageNumber: number;
  /** NFKC-normalised text in logical (reading) order, words separated by spaces. */
  text: string;
}

/** A span of a document's text that is embedded and indexed as one unit. */
export interface Chunk {
  /** Stable id: `${documentId}:${ordinal}`. */
  id: string;
  documentId: string;
  /** 0-based position of the chunk within its document. */
  ordinal: number;
  text: string;
  /** First and last 1-based page the chunk's text comes from; equal unless it straddles pages. */
  pageStart: number;
  pageEnd: number;
  /**
   * Offsets in UTF-16 code units into the document's text, which is the pages' texts joined
   * with `\n\n` (PAGE_SEPARATOR). `charEnd` is exclusive.
   */
  charStart: number;
  charEnd: number;
}

/** Separator placed between pages when a document's text is addressed as one string. */
export const PAGE_SEPARATOR = '\n\n';

/** Metadata of an ingested document. */
export interface DocumentInfo {
  /** The document id: the hex SHA-256 of the original bytes, so re-ingesting is idempotent. */
  id: string;
  name: string;
  type: DocumentType;
  sizeBytes: number;
  pageCount: number;
  chunkCount: number;
  /** Milliseconds since the epoch when the document was first ingested. */
  ingestedAt: number;
}
