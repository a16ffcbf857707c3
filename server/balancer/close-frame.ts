import { randomBytes } from 'node:crypto';

/** Close codes the balancer sends when an endpoint goes away (RFC 6455 section 7.4, IANA registry). */
export const closeCodes = {
  /** The server goes away, as the balancer does when it drains. */
  goingAway: 1001,
  /** The server hit an unexpected condition. */
  internalError: 1011,
  /** The service restarts, so the client should reconnect and another endpoint takes it. */
  serviceRestart: 1012,
} as const;

/**
 * Builds an unmasked close frame, the form a server sends to a client: FIN and opcode 8, a payload
 * length below 126, the code in network byte order and a UTF-8 reason of at most 123 bytes.
 */
export function buildCloseFrame(code: number, reason = ''): Buffer {
  const payload = closePayload(code, reason);
  return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
}

/**
 * Builds a masked close frame, the form a client sends to a server, for telling an endpoint that
 * the balancer closes the connection. The masking key is random, as RFC 6455 section 5.3 requires.
 */
export function buildMaskedCloseFrame(code: number, reason = ''): Buffer {
  const payload = closePayload(code, reason);
  const key = randomBytes(4);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), key, payload]);
}

function closePayload(code: number, reason: string): Buffer {
  let reasonBytes = Buffer.from(reason, 'utf8');
  if (reasonBytes.length > 123) reasonBytes = reasonBytes.subarray(0, 123);
  const payload = Buffer.alloc(2 + reasonBytes.length);
  payload.writeUInt16BE(code, 0);
  reasonBytes.copy(payload, 2);
  return payload;
}
