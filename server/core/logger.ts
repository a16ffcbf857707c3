import { pino, type Logger, type LevelWithSilent } from 'pino';

import { ValidationError } from './errors.js';

export type { Logger };

const LEVELS: string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written; default from LOG_LEVEL, else `info`. */
  level?: LevelWithSilent;
  /** Component name added to every line, such as `server` or `balancer`. */
  name?: string;
}

/** Creates the process logger: JSON lines on stderr, so stdout stays free for command output. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  if (!LEVELS.includes(level)) {
    throw new ValidationError([
      `LOG_LEVEL must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
    ]);
  }
  return pino({ level, name: options.name }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything, for tests and library callers who pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
