export type { Embedder } from './types.js';
export { createEmbedder, type EmbedderOptions } from './transformers-embedder.js';
export { defaultModelDir, resolveModelSource, type ModelSource } from './model-source.js';
export {
  EmbedderClosedError,
  EmbedWorkerError,
  ModelLoadError,
  ModelNotFoundError,
} from './errors.js';
