import type { ClientMessage, DocumentMediaType } from './protocol.js';

/** Why a client message was rejected: a stable code, the offending field and a sentence. */
export interface MessageProblem {
  code: 'INVALID_JSON' | 'INVALID_MESSAGE' | 'UNKNOWN_TYPE' | 'DOCUMENT_TOO_LARGE';
  field?: string;
  message: string;
  /** The message's `op`, when it had a usable one, so the client can match the error. */
  op?: string;
}

/** Limits that shape validation; the server passes its configured values. */
export interface ValidationLimits {
  maxDocumentBytes: number;
  maxTopK: number;
  maxQuestionChars: number;
}

const MEDIA_TYPES: DocumentMediaType[] = ['application/pdf', 'text/plain', 'text/markdown'];
const OP_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

type Fields = Record<string, unknown>;
type Check = (fields: Fields, limits: ValidationLimits) => string | undefined;

/** Field rules per message type; each returns the problem with the first bad field, or nothing. */
const RULES: Record<ClientMessage['type'], Record<string, Check>> = {
  ingest: {
    name: (m) => stringRule(m.name, 1, 512),
    mediaType: (m) =>
      MEDIA_TYPES.includes(m.mediaType as DocumentMediaType)
        ? undefined
        : `must be one of ${MEDIA_TYPES.join(', ')}`,
    size: (m, limits) => integerRule(m.size, 1, limits.maxDocumentBytes),
    sha256: (m) =>
      typeof m.sha256 === 'string' && SHA256_PATTERN.test(m.sha256)
        ? undefined
        : 'must be 64 lowercase hex characters',
    password: (m) => optional(m.password, () => stringRule(m.password, 1, 1024)),
  },
  search: {
    query: (m, limits) => stringRule(m.query, 1, limits.maxQuestionChars),
    k: (m, limits) => optional(m.k, () => integerRule(m.k, 1, limits.maxTopK)),
    minSeq: (m) => optional(m.minSeq, () => integerRule(m.minSeq, 0)),
  },
  ask: {
    question: (m, limits) => stringRule(m.question, 1, limits.maxQuestionChars),
    conversationId: (m) =>
      optional(m.conversationId, () =>
        typeof m.conversationId === 'string' && OP_PATTERN.test(m.conversationId)
          ? undefined
          : 'must be 1 to 64 characters of letters, digits and ._:-',
      ),
    k: (m, limits) => optional(m.k, () => integerRule(m.k, 1, limits.maxTopK)),
    minSeq: (m) => optional(m.minSeq, () => integerRule(m.minSeq, 0)),
    resumeAfter: (m) => optional(m.resumeAfter, () => integerRule(m.resumeAfter, 0)),
  },
  cancel: {},
  delete: {
    documentId: (m) =>
      typeof m.documentId === 'string' && SHA256_PATTERN.test(m.documentId)
        ? undefined
        : 'must be a document id (64 lowercase hex characters)',
  },
  list: {},
};

/**
 * Parses and validates one text frame. Returns the typed message, or the problem to send back
 * as an `error` event. Unknown fields are ignored so newer clients can talk to older servers.
 */
export function parseClientMessage(
  text: string,
  limits: ValidationLimits,
): { message: ClientMessage } | { problem: MessageProblem } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      problem: {
        code: 'INVALID_JSON',
        message: `frame is not valid JSON: ${(error as Error).message}`,
      },
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: { code: 'INVALID_MESSAGE', message: 'message must be a JSON object' } };
  }
  const fields = value as Fields;
  const op = typeof fields.op === 'string' && OP_PATTERN.test(fields.op) ? fields.op : undefined;
  if (typeof fields.type !== 'string') {
    return {
      problem: { code: 'INVALID_MESSAGE', field: 'type', message: 'type must be a string', op },
    };
  }
  const rules = Object.hasOwn(RULES, fields.type)
    ? RULES[fields.type as ClientMessage['type']]
    : undefined;
  if (!rules) {
    return {
      problem: {
        code: 'UNKNOWN_TYPE',
        field: 'type',
        message: `type must be one of ${Object.keys(RULES).join(', ')}, got ${JSON.stringify(fields.type).slice(0, 80)}`,
        op,
      },
    };
  }
  if (op === undefined) {
    return {
      problem: {
        code: 'INVALID_MESSAGE',
        field: 'op',
        message: 'op must be 1 to 64 characters of letters, digits and ._:-',
      },
    };
  }
  const size = fields.size;
  if (
    fields.type === 'ingest' &&
    Number.isInteger(size) &&
    (size as number) > limits.maxDocumentBytes
  ) {
    return {
      problem: {
        code: 'DOCUMENT_TOO_LARGE',
        field: 'size',
        message:
          `document is ${size as number} bytes, more than the ${limits.maxDocumentBytes} bytes ` +
          'this server accepts (its --max-document-bytes); split the document or raise the limit',
        op,
      },
    };
  }
  for (const [field, check] of Object.entries(rules)) {
    const rule = check(fields, limits);
    if (rule !== undefined) {
      // A password is never echoed back, even when it is the invalid field.
      const got =
        field === 'password' ? 'a hidden value' : (JSON.stringify(fields[field]) ?? 'nothing');
      return {
        problem: {
          code: 'INVALID_MESSAGE',
          field,
          message: `${field} ${rule}, got ${got.slice(0, 80)}`,
          op,
        },
      };
    }
  }
  return { message: fields as unknown as ClientMessage };
}

function optional(value: unknown, check: () => string | undefined): string | undefined {
  return value === undefined ? undefined : check();
}

function stringRule(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    return `must be a string of ${min} to ${max} characters`;
  }
  return undefined;
}

function integerRule(
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return `must be an integer from ${min} to ${max}`;
  }
  return undefined;
}
