import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A small real endpoint for tests: HTTP, WebSocket echo, `/readyz`, `/stats` and `/drain`. */
export interface WsBackend {
  name: string;
  port: number;
  server: Server;
  wss: WebSocketServer;
  /** Headers of the last upgrade and plain request received. */
  lastUpgradeHeaders: IncomingHttpHeaders | undefined;
  lastRequestHeaders: IncomingHttpHeaders | undefined;
  /** Shed requests received on POST /drain, as query strings. */
  drainRequests: string[];
  /** `/readyz` answers 503 while false. */
  ready: boolean;
  /** Status that every upgrade gets while set, as a draining stream server answers 503. */
  rejectUpgrades: number | undefined;
  /** Overrides fields of the `/stats` answer. */
  stats: Partial<{
    connections: number;
    inflightIngests: number;
    eventLoopUtilization: number;
    draining: boolean;
  }>;
  readyzProbes: number;
  /** Open TCP connections to the server, upgraded ones included. */
  openSockets(): number;
  close(): Promise<void>;
}

/**
 * Starts a backend on 127.0.0.1 port 0. WebSocket clients get `hello <name>` first and then an
 * echo of each message; on path `/stream` the backend also sends `tick <n>` every 10 ms. Upgrades
 * to `/reject/<status>` get that status and a short body; plain GET `/slow` responds after 500 ms.
 */
export async function startWsBackend(name: string): Promise<WsBackend> {
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    backend.lastRequestHeaders = req.headers;
    const url = new URL(req.url ?? '/', 'http://backend');
    if (url.pathname === '/readyz') {
      backend.readyzProbes++;
      res.writeHead(backend.ready ? 200 : 503).end(backend.ready ? 'ready' : 'not ready');
    } else if (url.pathname === '/stats') {
      const stats = {
        connections: wss.clients.size,
        inflightIngests: 0,
        eventLoopUtilization: 0.1,
        draining: false,
        ...backend.stats,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    } else if (url.pathname === '/slow') {
      setTimeout(() => res.writeHead(200).end('slow'), 500);
    } else if (url.pathname === '/drain' && req.method === 'POST') {
      backend.drainRequests.push(url.search);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    } else {
      res
        .writeHead(200, { 'content-type': 'text/plain', 'x-backend': name })
        .end(`backend ${name} ${req.method} ${url.pathname}`);
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket: Socket, head) => {
    backend.lastUpgradeHeaders = req.headers;
    const rejected = /^\/reject\/(\d{3})$/.exec(req.url ?? '');
    const status = backend.rejectUpgrades ?? rejected?.[1];
    if (status !== undefined) {
      const body = `rejected by ${name}`;
      socket.end(
        `HTTP/1.1 ${status} Rejected\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req.url ?? '/'));
  });
  const onConnection = (ws: WebSocket, path: string): void => {
    ws.send(`hello ${name}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    if (path === '/stream') {
      let tick = 0;
      const timer = setInterval(() => ws.send(`tick ${tick++}`), 10);
      ws.on('close', () => clearInterval(timer));
    }
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const backend: WsBackend = {
    name,
    port: (server.address() as AddressInfo).port,
    server,
    wss,
    lastUpgradeHeaders: undefined,
    lastRequestHeaders: undefined,
    drainRequests: [],
    ready: true,
    rejectUpgrades: undefined,
    stats: {},
    readyzProbes: 0,
    openSockets: () => sockets.size,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      wss.close();
    },
  };
  return backend;
}
