import { GeneratorFailedError } from './errors.js';

const MAX_ERROR_BODY_CHARS = 4096;

/**
 * Turns a non-2xx response into a GeneratorFailedError carrying the endpoint's own message
 * (OpenAI-style `{"error": {"message": ...}}`, or the start of the body) and what to check.
 * `redact` removes secrets an endpoint might echo back.
 */
export async function describeHttpFailure(
  response: Response,
  context: { endpoint: string; model: string; apiKeyEnv: string; hasApiKey: boolean },
  redact: (text: string) => string,
): Promise<GeneratorFailedError> {
  const reason = redact(messageOf(await readStart(response)) || response.statusText);
  const status = response.status;
  const message = `${context.endpoint} rejected the request with HTTP ${status}: ${reason}`;
  return new GeneratorFailedError(`${message}; ${nextStep(status, context)}`, { status });
}

function nextStep(
  status: number,
  context: { model: string; apiKeyEnv: string; hasApiKey: boolean },
): string {
  if (status === 401 || status === 403) {
    return context.hasApiKey
      ? `check the API key in the environment variable ${context.apiKeyEnv}`
      : `set the API key in the environment variable ${context.apiKeyEnv}`;
  }
  if (status === 404) return `check the base URL and the model name "${context.model}"`;
  if (status === 429 || status >= 500) return 'the endpoint is overloaded or failing; retry later';
  return 'check the model name and the endpoint settings';
}

async function readStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let text = '';
  for await (const bytes of response.body) {
    text += decoder.decode(bytes, { stream: true });
    if (text.length >= MAX_ERROR_BODY_CHARS) break;
  }
  return text.slice(0, MAX_ERROR_BODY_CHARS);
}

function messageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      message?: unknown;
    };
    const error = parsed.error;
    if (typeof error === 'string') return error;
    if (typeof error?.message === 'string') return error.message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: the body itself is the best message there is.
  }
  return body.trim().replace(/\s+/g, ' ').slice(0, 300);
}
