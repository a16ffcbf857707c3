/** Load and index figures of one stream server, from its `/stats` endpoint. */
export interface ServerStats {
  /** Open WebSocket connections. */
  connections: number;
  /** Share of time the event loop was busy over the server's last measurement, 0 to 1. */
  eventLoopUtilization: number;
  /**
   * Share of time the server's busiest worker pool (embedding or parsing) was busy, 0 to 1.
   * CPU-heavy ingestion runs in these workers, so it shows here rather than on the event loop.
   */
  workerUtilization: number;
  /** Documents being ingested. */
  inflightIngests: number;
  /** Whether the server is draining before its removal or shutdown. */
  draining: boolean;
  /** Documents in the server's index. */
  documents: number;
  /** Chunks in the server's index. */
  chunks: number;
}

/** The figures of one `/stats` response and when they arrived. */
export interface ServerSample extends ServerStats {
  /** When the operator received the sample, in milliseconds since the Unix epoch. */
  sampledAtMs: number;
}

/** The reading of one ready server: its latest fresh sample, the latest error, or both. */
export interface ServerReading {
  podName: string;
  /** Latest fresh sample; after a failed read, the previous one until it turns stale. */
  sample?: ServerSample;
  /** Message of the latest failed read, such as a timeout, an HTTP status or an invalid body. */
  error?: string;
}

/** Age after which a sample counts as missing, in milliseconds: twice a 15 s reading interval. */
export const DEFAULT_MAX_SAMPLE_AGE_MS = 30_000;

/**
 * Returns the load figure the autoscaler scales on: the busier of the event loop and the worker
 * pools, because either one saturated slows the server's responses.
 */
export function utilizationOf(stats: ServerStats): number {
  return Math.max(stats.eventLoopUtilization, stats.workerUtilization);
}

/** Fresh samples of one decision, with the servers they leave uncovered. */
export interface FreshSamples {
  samples: ServerSample[];
  /** Servers of the current count without a fresh sample; draining servers do not cover one. */
  missingServers: number;
  drainingServers: number;
}

function isUsable(sample: ServerSample | undefined): sample is ServerSample {
  if (!sample) return false;
  const figures = [
    sample.connections,
    sample.eventLoopUtilization,
    sample.workerUtilization,
    sample.inflightIngests,
  ];
  return figures.every((value) => Number.isFinite(value) && value >= 0);
}

/**
 * Keeps the samples taken within `maxSampleAgeMs` of `nowMs`. Each server of the current count
 * is expected to report, so one that is not ready, did not answer or answered too long ago is
 * missing. A draining server's sample is kept, because its connections move to the other
 * servers, but it covers none of the current count.
 */
export function selectFreshSamples(
  readings: ServerReading[],
  currentReplicas: number,
  nowMs: number,
  maxSampleAgeMs: number,
): FreshSamples {
  const samples = readings
    .map((reading) => reading.sample)
    .filter(isUsable)
    .filter((sample) => nowMs - sample.sampledAtMs <= maxSampleAgeMs);
  const drainingServers = samples.filter((sample) => sample.draining).length;
  const serving = samples.length - drainingServers;
  return { samples, missingServers: Math.max(0, currentReplicas - serving), drainingServers };
}
