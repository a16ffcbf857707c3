/**
 * Characters of an HTTP token (RFC 9110, section 5.6.2). A bearer token travels as the WebSocket
 * subprotocol `bearer.<token>`, and a subprotocol must be such a token.
 */
const SUBPROTOCOL_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Returns why `token` cannot be sent as a subprotocol, or undefined for a usable token. */
export function bearerTokenProblem(token: string): string | undefined {
  if (SUBPROTOCOL_TOKEN.test(token)) return undefined;
  return (
    "must contain only letters, digits and !#$%&'*+-.^_`|~, because it is sent as a WebSocket " +
    'subprotocol; a base64 token can use the URL-safe alphabet without padding'
  );
}
