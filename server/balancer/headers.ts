import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/**
 * Fields that describe one connection rather than the message, which a proxy must not forward
 * (RFC 9110 section 7.6.1, plus the legacy Proxy-Connection and Keep-Alive). Fields named in
 * Connection are dropped as well.
 */
const hopByHop = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
]);

/**
 * Returns the lower-cased tokens of every Connection field of a message. Node joins repeated
 * Connection fields with ", ", so `Connection: keep-alive` plus `Connection: Upgrade` arrive as
 * one list, as does Firefox's `Connection: keep-alive, Upgrade`.
 */
export function connectionTokens(headers: IncomingHttpHeaders): string[] {
  const raw = headers.connection;
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values
    .flatMap((value) => value.split(','))
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
}

/** True when the request is an upgrade to WebSocket, whatever else Connection lists. */
export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  const upgrade = (headers.upgrade ?? '')
    .toLowerCase()
    .split(',')
    .map((token) => token.trim());
  return connectionTokens(headers).includes('upgrade') && upgrade.includes('websocket');
}

/** Copies the end-to-end fields of a message, dropping hop-by-hop ones and those Connection names. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(connectionTokens(headers));
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name) || named.has(name)) continue;
    result[name] = value;
  }
  return result;
}

/** Where the request came from, for X-Forwarded-For and X-Forwarded-Proto. */
export interface ForwardingContext {
  /** Append to incoming X-Forwarded-* fields instead of replacing them. */
  trustForwardedHeaders: boolean;
}

/**
 * Builds the fields sent to an endpoint: the end-to-end fields, X-Forwarded-For with the client's
 * address, X-Forwarded-Proto, and for WebSocket upgrades `Connection: Upgrade` with
 * `Upgrade: websocket`, which the hop-by-hop rule would otherwise remove.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  context: ForwardingContext,
): OutgoingHttpHeaders {
  const headers = endToEndHeaders(req.headers);
  const clientAddress = req.socket.remoteAddress ?? '';
  const priorFor = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] =
    context.trustForwardedHeaders && priorFor
      ? `${String(priorFor)}, ${clientAddress}`
      : clientAddress;
  const priorProto = req.headers['x-forwarded-proto'];
  headers['x-forwarded-proto'] = context.trustForwardedHeaders && priorProto ? priorProto : 'http';

  if (isWebSocketUpgrade(req.headers)) {
    headers.connection = 'Upgrade';
    headers.upgrade = 'websocket';
  }
  return headers;
}

/**
 * Serialises a response head from raw header pairs, keeping each field's spelling and order.
 * Hop-by-hop fields are dropped unless `keepHopByHop` (a 101 response needs Connection and Upgrade).
 */
export function formatResponseHead(
  statusCode: number,
  statusMessage: string,
  rawHeaders: readonly string[],
  keepHopByHop: boolean,
  extra: readonly [string, string][] = [],
): string {
  const named = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue;
    for (const token of rawHeaders[i + 1]!.split(',')) named.add(token.trim().toLowerCase());
  }
  const lines = [`HTTP/1.1 ${statusCode} ${statusMessage}`];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (!keepHopByHop && (hopByHop.has(lower) || named.has(lower))) continue;
    lines.push(`${name}: ${rawHeaders[i + 1]!}`);
  }
  for (const [name, value] of extra) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
