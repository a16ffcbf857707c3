import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the server received, parsed. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: { model?: string; stream?: boolean; messages?: { role: string; content: string }[] };
}

export type ChatHandler = (
  request: ReceivedRequest,
  response: ServerResponse,
  raw: IncomingMessage,
) => void | Promise<void>;

/** A fake chat completions server started by {@link startChatServer}. */
export type ChatServer = Awaited<ReturnType<typeof startChatServer>>;

/**
 * Starts an HTTP server on a loopback port that speaks the streamed chat completions wire
 * format through `handler`, and records every request it receives.
 */
export async function startChatServer(handler: ChatHandler) {
  const requests: ReceivedRequest[] = [];
  const server = createServer(async (raw, response) => {
    let text = '';
    for await (const bytes of raw) text += bytes;
    const request = {
      method: raw.method ?? '',
      url: raw.url ?? '',
      headers: raw.headers,
      body: JSON.parse(text) as ReceivedRequest['body'],
    };
    requests.push(request);
    await handler(request, response, raw);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends the status line and headers of an event stream. */
export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
}

/** Sends one chunk of a streamed chat completion. */
export function sendDelta(
  response: ServerResponse,
  content: string | undefined,
  finishReason: string | null = null,
): void {
  const delta = content === undefined ? { role: 'assistant' } : { content };
  const chunk = {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
  response.write(`data: ${JSON.stringify(chunk)}\n\n`);
}

/** Sends the final chunk and the `[DONE]` sentinel, and ends the response. */
export function finishStream(response: ServerResponse): void {
  sendDelta(response, '', 'stop');
  response.end('data: [DONE]\n\n');
}

/** Streams `tokens` with `delayMs` between them, then finishes the stream. */
export async function streamTokens(
  response: ServerResponse,
  tokens: string[],
  delayMs = 0,
): Promise<void> {
  startEventStream(response);
  sendDelta(response, undefined);
  for (const token of tokens) {
    if (delayMs > 0) await sleep(delayMs);
    if (response.destroyed) return;
    sendDelta(response, token);
  }
  finishStream(response);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
