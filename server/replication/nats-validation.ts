// Validation of the NATS settings that no connection attempt can fix, so a server rejects them
// at startup instead of retrying a connection that can never succeed.
import { ValidationError } from '../core/errors.js';

/** Maximum stream name length that nats-server accepts, in UTF-8 bytes (2.9.10 rejects 256). */
const MAX_STREAM_NAME_BYTES = 255;
/** Characters nats-server and nats.js reject in a stream name. */
const STREAM_NAME_FORBIDDEN = /[.*>/\\\s]/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Returns why `url` cannot name a NATS server, or undefined when it can. Accepted forms are
 * `nats://host[:port]`, `tls://host[:port]` and a bare `host[:port]`, which nats.js also accepts.
 */
export function natsUrlProblem(url: string): string | undefined {
  const expected = 'must be nats://host[:port] or tls://host[:port]';
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'nats' && scheme !== 'tls') {
    return `${expected}; the Node.js NATS client does not connect with ${scheme}://`;
  }
  if (scheme === undefined && url.includes('/')) return expected;
  let parsed: URL;
  try {
    parsed = new URL(scheme === undefined ? `nats://${url}` : url);
  } catch {
    return `${expected} with a valid host name and a port from 1 to 65535`;
  }
  if (parsed.hostname === '') return `${expected}; the host is missing`;
  if (parsed.port === '0') return `${expected}; port 0 cannot be connected to`;
  if (parsed.pathname !== '' || parsed.search !== '' || parsed.hash !== '') {
    return `${expected}, without a path, query or fragment`;
  }
  return undefined;
}

/** Returns why `name` cannot be a JetStream stream name, or undefined when it can. */
export function streamNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (STREAM_NAME_FORBIDDEN.test(name)) {
    return 'must not contain ".", "*", ">", "/", "\\" or white space';
  }
  if (Buffer.byteLength(name) > MAX_STREAM_NAME_BYTES) {
    return `must be at most ${MAX_STREAM_NAME_BYTES} bytes long`;
  }
  return undefined;
}

/** Returns why `subject` cannot be published on, or undefined when it can. */
export function subjectProblem(subject: string): string | undefined {
  const tokens = subject.split('.');
  if (tokens.some((token) => token === '')) {
    return 'must be dot-separated tokens, none of them empty';
  }
  if (tokens.some((token) => /[\s*>]/.test(token))) {
    return 'must not contain white space or the wildcards "*" and ">"';
  }
  return undefined;
}

/**
 * Throws a ValidationError naming every invalid server URL, the stream name and the subject.
 * Undefined stream and subject stand for their defaults, which are valid.
 */
export function checkNatsLogOptions(options: {
  servers: string | string[];
  stream?: string;
  subject?: string;
}): void {
  const problems: string[] = [];
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (servers.length === 0) problems.push('NATS server URLs must name at least one server');
  for (const url of servers) {
    const problem = natsUrlProblem(url);
    if (problem) problems.push(`NATS server URL ${problem}, got ${JSON.stringify(url)}`);
  }
  const streamProblem =
    options.stream === undefined ? undefined : streamNameProblem(options.stream);
  if (streamProblem) {
    problems.push(`NATS stream name ${streamProblem}, got ${JSON.stringify(options.stream)}`);
  }
  const subject = options.subject === undefined ? undefined : subjectProblem(options.subject);
  if (subject) problems.push(`NATS subject ${subject}, got ${JSON.stringify(options.subject)}`);
  if (problems.length > 0) throw new ValidationError(problems);
}

/**
 * Formats server URLs for logs and error messages, with any user name, password or token
 * replaced by `***`, because these messages also reach clients.
 */
export function describeNatsServers(servers: string | string[]): string {
  const list = typeof servers === 'string' ? [servers] : servers;
  return list
    .map((url) => url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?[^/@]*@/, '$1***@'))
    .join(',');
}
