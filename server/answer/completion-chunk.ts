import { GeneratorFailedError } from './errors.js';

/** What one streamed chat completion chunk adds to the answer. */
export interface CompletionDelta {
  content: string;
  /** Set on the last chunk of a choice: `stop`, `length`, `content_filter` and so on. */
  finishReason: string | undefined;
}

interface ChunkBody {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  error?: { message?: unknown } | string;
}

/**
 * Parses the data of one event of a streamed chat completion. An error object in the stream,
 * which some servers send after the response status is already 200, becomes a
 * GeneratorFailedError, and so does data that is not JSON.
 */
export function parseCompletionChunk(data: string, endpoint: string): CompletionDelta {
  let body: ChunkBody;
  try {
    body = JSON.parse(data) as ChunkBody;
  } catch (error) {
    throw new GeneratorFailedError(
      `${endpoint} sent a stream event that is not JSON: ${JSON.stringify(data.slice(0, 80))}; ` +
        'check that the base URL points at an OpenAI-compatible endpoint',
      { cause: error },
    );
  }
  if (body.error !== undefined) {
    const message = typeof body.error === 'string' ? body.error : String(body.error.message);
    throw new GeneratorFailedError(`${endpoint} reported an error mid-stream: ${message}`);
  }

  const choice = body.choices?.[0];
  const content = choice?.delta?.content;
  const finishReason = choice?.finish_reason;
  return {
    content: typeof content === 'string' ? content : '',
    finishReason: typeof finishReason === 'string' ? finishReason : undefined,
  };
}
