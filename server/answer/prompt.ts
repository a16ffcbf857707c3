import type { AnswerRequest, RetrievedChunk } from './types.js';

/** A message of the chat completions API. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const SYSTEM_PROMPT =
  'You answer questions using only the numbered passages given with the question. ' +
  'After each claim, cite the passage it comes from by its number in square brackets, ' +
  'such as [1] or [2][3]. If the passages do not contain the answer, say that no relevant ' +
  'passage was found, and do not answer from other knowledge. Answer concisely, in the ' +
  'language of the question.';

// Markers in earlier answers refer to earlier passages, so they would mislead the model.
const MARKER = /\s*\[\d+(?:\s*,\s*\d+)*\]/g;

/**
 * Builds the chat messages: the instructions, the last `maxHistoryTurns` turns of the
 * conversation, then the numbered passages followed by the question.
 */
export function buildChatMessages(request: AnswerRequest, maxHistoryTurns: number): ChatMessage[] {
  const history = maxHistoryTurns > 0 ? request.history.slice(-maxHistoryTurns) : [];
  const messages: ChatMessage[] = [{ role: 'system', content: SYSTEM_PROMPT }];
  for (const turn of history) {
    const content = turn.role === 'assistant' ? turn.text.replace(MARKER, '') : turn.text;
    messages.push({ role: turn.role, content });
  }

  const passages = request.chunks.map((chunk, i) => formatPassage(chunk, i + 1)).join('\n\n');
  messages.push({
    role: 'user',
    content: `Passages:\n\n${passages}\n\nQuestion: ${request.question}`,
  });
  return messages;
}

function formatPassage(chunk: RetrievedChunk, number: number): string {
  const pages =
    chunk.pageStart === chunk.pageEnd
      ? `page ${chunk.pageStart}`
      : `pages ${chunk.pageStart}-${chunk.pageEnd}`;
  return `[${number}] ${chunk.documentName}, ${pages}:\n${chunk.text}`;
}
