// Public API of document ingestion: parsing PDF, text and Markdown into pages, and chunking pages
// for embedding.
export type { Chunk, DocumentInfo, DocumentType, ParsedPage } from './types.js';
export { PAGE_SEPARATOR } from './types.js';
export {
  DocumentParser,
  PARSE_DEFAULTS,
  type DocumentInput,
  type DocumentParserOptions,
  type ParseOptions,
  type ParseResult,
} from './document-parser.js';
export { PARSER_POOL_DEFAULTS } from './parser-pool.js';
export { detectDocumentType } from './document-type.js';
export { chunkDocument, CHUNK_DEFAULTS, type ChunkOptions, type TokenCounter } from './chunker.js';
export { joinPages, pageNumberAt, type JoinedPages } from './page-offsets.js';
export {
  DocumentTooLargeError,
  EncryptedDocumentError,
  InvalidDocumentError,
  NoExtractableTextError,
  ParserFailedError,
  ParseTimeoutError,
  type SizeLimit,
} from './errors.js';
