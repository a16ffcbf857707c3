export { StreamClusterClient, guessMediaType } from './client.js';
export type { ClientCounters, ClientOptions, ReconnectOptions } from './client.js';
export { StreamClusterClientError } from './errors.js';
export type * from './types.js';
