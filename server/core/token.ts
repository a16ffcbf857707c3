import { createHash, timingSafeEqual } from 'node:crypto';

import { bearerTokenProblem } from '../../client/token.js';

/** Parses a bearer token setting, which clients and browsers send as a WebSocket subprotocol. */
export function bearerToken(raw: string): string {
  const problem = raw === '' ? undefined : bearerTokenProblem(raw);
  if (problem) throw new Error(problem);
  return raw;
}

/**
 * Compares a presented token with the expected one. Comparing digests of equal length keeps the
 * time independent of where the tokens differ and of the expected token's length.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
