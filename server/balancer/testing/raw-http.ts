import { connect } from 'node:net';

/** Status, head and body of a raw HTTP exchange, and whether the server closed the socket. */
export interface RawAnswer {
  status: number;
  head: string;
  body: string;
  closedByServer: boolean;
}

/**
 * Sends `request` verbatim over a new TCP connection and reads until the server closes it or the
 * head of a 101 answer arrives, so tests can send header layouts that clients normalise away.
 */
export function rawExchange(port: number, request: string, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms, got ${JSON.stringify(data)}`));
    }, timeoutMs);
    const finish = (closedByServer: boolean): void => {
      clearTimeout(timer);
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      socket.destroy();
      resolve({ status, head, body: rest.join('\r\n\r\n'), closedByServer });
    };
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.startsWith('HTTP/1.1 101') && data.includes('\r\n\r\n')) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('error', reject);
    socket.write(request);
  });
}

/** A WebSocket upgrade request with the given extra header lines. */
export function upgradeRequest(path: string, headerLines: string[]): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...headerLines,
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    '',
    '',
  ].join('\r\n');
}
