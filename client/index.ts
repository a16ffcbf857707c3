export { StreamClusterClient } from './client.js';
export {
  detectMediaType,
  guessMediaType,
  requireMediaType,
  type DocumentMediaType,
} from './media-type.js';
export { sha256Hex } from './sha256.js';
export type { ClientCounters, ClientOptions, ReconnectOptions } from './client.js';
export { StreamClusterClientError } from './errors.js';
export type * from './types.js';
