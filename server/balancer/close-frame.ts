/** Close codes the balancer sends when an endpoint goes away (RFC 6455 section 7.4, IANA registry). */
export const closeCodes = {
  /** The server goes away, as the balancer does when it drains. */
  goingAway: 1001,
  /** The server hit an unexpected condition. */
  internalError: 1011,
  /** The service restarts: reconnect, another endpoint will answer. */
  serviceRestart: 1012,
} as const;

/**
 * Builds an unmasked close frame, the form a server sends to a client: FIN and opcode 8, a payload
 * length below 126, the code in network byte order and a UTF-8 reason of at most 123 bytes.
 */
export function buildCloseFrame(code: number, reason = ''): Buffer {
  let reasonBytes = Buffer.from(reason, 'utf8');
  if (reasonBytes.length > 123) reasonBytes = reasonBytes.subarray(0, 123);
  const frame = Buffer.alloc(4 + reasonBytes.length);
  frame[0] = 0x88;
  frame[1] = 2 + reasonBytes.length;
  frame.writeUInt16BE(code, 2);
  reasonBytes.copy(frame, 4);
  return frame;
}
