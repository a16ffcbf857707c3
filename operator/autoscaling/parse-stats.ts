import { StreamClusterError } from '../../server/core/errors.js';
import type { ServerStats } from './readings.js';

/** A `/stats` body that is not the JSON the stream server sends. */
export class InvalidStatsError extends StreamClusterError {
  constructor(message: string) {
    super('INVALID_STATS', message);
  }
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function findProblems(record: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const field of ['connections', 'inflightIngests', 'documents', 'chunks'] as const) {
    if (!isCount(record[field])) {
      problems.push(`${field} must be a non-negative number, got ${describe(record[field])}`);
    }
  }
  const utilization = record.eventLoopUtilization;
  if (!isCount(utilization) || (utilization as number) > 1) {
    problems.push(
      `eventLoopUtilization must be a number from 0 to 1, got ${describe(utilization)}`,
    );
  }
  // Optional, because servers of earlier versions do not report it. It then counts as 0.
  const workers = record.workerUtilization;
  if (workers !== undefined && (!isCount(workers) || (workers as number) > 1)) {
    problems.push(`workerUtilization must be a number from 0 to 1, got ${describe(workers)}`);
  }
  if (typeof record.draining !== 'boolean') {
    problems.push(`draining must be a boolean, got ${describe(record.draining)}`);
  }
  return problems;
}

/**
 * Parses the body of a stream server's `/stats`, the one parser for the autoscaler and status.
 * Fields other than the seven the operator reads are ignored. Throws InvalidStatsError naming every
 * invalid field.
 */
export function parseStats(text: string): ServerStats {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidStatsError(`/stats body must be JSON, got ${describe(text)}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidStatsError(`/stats body must be a JSON object, got ${describe(body)}`);
  }

  const record = body as Record<string, unknown>;
  const problems = findProblems(record);
  if (problems.length > 0)
    throw new InvalidStatsError(`invalid /stats body: ${problems.join('; ')}`);
  return {
    connections: record.connections as number,
    eventLoopUtilization: record.eventLoopUtilization as number,
    workerUtilization: (record.workerUtilization as number | undefined) ?? 0,
    inflightIngests: record.inflightIngests as number,
    draining: record.draining as boolean,
    documents: record.documents as number,
    chunks: record.chunks as number,
  };
}
