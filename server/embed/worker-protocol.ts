import { parentPort, workerData } from 'node:worker_threads';

/** An error as it crosses a thread boundary: Error instances lose their class on the way. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
}

/** A request from the pool to one worker. */
export interface WorkerRequest<Request> {
  id: number;
  request: Request;
}

/** Messages a worker sends to its pool. */
export type WorkerMessage<Info, Result> =
  | { type: 'ready'; info: Info }
  | { type: 'failed'; error: SerializedError }
  | { type: 'result'; id: number; result: Result }
  | { type: 'error'; id: number; error: SerializedError };

/** Result of a worker's setup: ready info for the pool and the handler of each request. */
export interface WorkerService<Info, Request, Result> {
  info: Info;
  handle(request: Request): Promise<{ result: Result; transfer?: ArrayBuffer[] }>;
}

/** Converts any thrown value into a {@link SerializedError}. */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    code: typeof code === 'string' ? code : undefined,
  };
}

/**
 * Runs inside a worker thread: calls `setup` with the pool's workerData, reports ready or
 * failed, then handles each request. The pool sends a worker one request at a time,
 * so requests never interleave here.
 */
export function serveWorker<Info, Request, Result>(
  setup: (data: unknown) => Promise<WorkerService<Info, Request, Result>>,
): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorker must run inside a worker thread');

  setup(workerData).then(
    (service) => {
      port.on('message', (message: WorkerRequest<Request>) => {
        service.handle(message.request).then(
          ({ result, transfer }) =>
            port.postMessage({ type: 'result', id: message.id, result }, transfer ?? []),
          (error: unknown) =>
            port.postMessage({ type: 'error', id: message.id, error: serializeError(error) }),
        );
      });
      port.postMessage({ type: 'ready', info: service.info });
    },
    (error: unknown) => port.postMessage({ type: 'failed', error: serializeError(error) }),
  );
}
