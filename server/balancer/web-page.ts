import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

import type { Logger } from '../core/logger.js';
import { tokensEqual } from '../core/token.js';
import { describeEndpoints } from './admin-server.js';
import type { Upstream } from './upstream.js';

/** Path prefix of everything the balancer serves itself on the proxy listener. */
export const webPagePrefix = '/ui/';

/** Collaborators of the web page handler. */
export interface WebPageOptions {
  /** Folder of the built page: `index.html`, `app.js`, `style.css` (see scripts/build-web.ts). */
  root: string;
  /**
   * Bearer token that `/ui/api/endpoints` requires in `Authorization`; default none, so the
   * endpoint list is open to every caller. The page's own files stay open either way.
   */
  token?: string;
  upstream: Upstream;
  logger: Logger;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** File names the page may request: one path segment, so nothing outside the root is reachable. */
const fileName = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9]+)*\.(html|js|css|map)$/;

/** A Host header that is safe to echo into the Content-Security-Policy. */
const hostPattern = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * Serves the web page and its JSON under `/ui/` when the request is for them, and returns false
 * for every other request so the balancer forwards it to an endpoint. `GET /` from a browser
 * (an `Accept` with `text/html`) is redirected to the page, because stream servers serve nothing
 * at `/` but WebSocket upgrades, which never reach this handler.
 */
export function handleWebPage(
  options: WebPageOptions,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const path = new URL(req.url ?? '/', 'http://balancer').pathname;
  const readOnly = req.method === 'GET' || req.method === 'HEAD';
  if (path === '/' && readOnly && (req.headers.accept ?? '').includes('text/html')) {
    redirect(res, webPagePrefix);
    return true;
  }
  if (path === '/ui') {
    redirect(res, webPagePrefix);
    return true;
  }
  if (!path.startsWith(webPagePrefix)) return false;

  if (!readOnly) {
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed; the page accepts GET\n', {
      allow: 'GET, HEAD',
    });
    return true;
  }
  const name = path.slice(webPagePrefix.length);
  if (name === 'api/endpoints') {
    serveEndpoints(options, req, res);
    return true;
  }
  void serveFile(options, req, res, name === '' ? 'index.html' : name);
  return true;
}

/**
 * Sends the endpoint list, or 401 when a token is configured and the request lacks it. The list
 * names internal addresses, so only callers holding the token may read it.
 */
function serveEndpoints(options: WebPageOptions, req: IncomingMessage, res: ServerResponse): void {
  if (options.token !== undefined && !hasBearerToken(req, options.token)) {
    options.logger.debug({ path: req.url }, 'endpoint list requested without a valid bearer token');
    const hint =
      'missing or invalid bearer token; send the web token as Authorization: Bearer <token>\n';
    return send(res, 401, 'text/plain; charset=utf-8', hint, { 'www-authenticate': 'Bearer' });
  }
  send(res, 200, 'application/json', JSON.stringify(describeEndpoints(options.upstream)));
}

/** Checks for `Authorization: Bearer <token>`, with the scheme name case-insensitive (RFC 9110). */
function hasBearerToken(req: IncomingMessage, expected: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
  if (!match) return false;
  return tokensEqual(match[1]!, expected);
}

async function serveFile(
  options: WebPageOptions,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
): Promise<void> {
  if (!fileName.test(name)) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  let body: Buffer;
  try {
    body = await readFile(join(options.root, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      options.logger.error({ err: error, file: name }, 'reading a web page file failed');
      return send(res, 500, 'text/plain; charset=utf-8', 'reading the file failed\n');
    }
    const hint =
      name === 'index.html'
        ? 'the web page is not built; run `npm run build:web` or point --web-root at the built page\n'
        : 'not found\n';
    return send(res, 404, 'text/plain; charset=utf-8', hint);
  }
  const headers: Record<string, string> = {};
  if (name.endsWith('.html')) headers['content-security-policy'] = securityPolicy(req);
  send(res, 200, contentTypes[extname(name)]!, req.method === 'HEAD' ? '' : body, headers, body);
}

/**
 * Lets the page load only its own files and open WebSockets only to the balancer it came from.
 * CSP's `'self'` covers `ws:` and `wss:` in CSP Level 3 only, so the host is also listed.
 */
function securityPolicy(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  const sockets = hostPattern.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    `connect-src 'self'${sockets}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0 });
  res.end();
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  lengthOf: string | Buffer = body,
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(lengthOf),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}
