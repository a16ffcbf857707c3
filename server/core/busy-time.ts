/** Cumulative busy time of a pool of workers, read as a difference between two moments. */
export interface WorkerBusyTime {
  /** Pool name, such as `embedding` or `parsing`. */
  pool: string;
  /** Workers the pool runs when full. */
  workers: number;
  /** Milliseconds its workers have spent on requests since it started, summed over workers. */
  busyMs: number;
}

/**
 * Adds up the time each worker of a pool spends on a request. A request still running counts
 * up to the moment of the reading, so a long parse shows as load while it runs, not after.
 */
export class BusyClock {
  private finishedMs = 0;
  private readonly running = new Map<object, number>();

  constructor(
    private readonly pool: string,
    private readonly workers: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Marks `worker` busy from now. A second call for a busy worker changes nothing. */
  start(worker: object): void {
    if (!this.running.has(worker)) this.running.set(worker, this.nowMs());
  }

  /** Marks `worker` idle and adds its busy stretch. A call for an idle worker changes nothing. */
  stop(worker: object): void {
    const since = this.running.get(worker);
    if (since === undefined) return;
    this.running.delete(worker);
    this.finishedMs += this.nowMs() - since;
  }

  read(): WorkerBusyTime {
    const now = this.nowMs();
    let busyMs = this.finishedMs;
    for (const since of this.running.values()) busyMs += now - since;
    return { pool: this.pool, workers: this.workers, busyMs };
  }
}

/**
 * Returns the share of its capacity that the busiest pool used between two readings, 0 to 1.
 * Pools are matched by name, and one missing from `before` (just started) counts from zero.
 */
export function busiestPoolUtilization(
  before: WorkerBusyTime[],
  after: WorkerBusyTime[],
  elapsedMs: number,
): number {
  if (elapsedMs <= 0) return 0;
  let busiest = 0;
  for (const reading of after) {
    if (reading.workers <= 0) continue;
    const previous = before.find((entry) => entry.pool === reading.pool)?.busyMs ?? 0;
    const share = (reading.busyMs - previous) / (elapsedMs * reading.workers);
    busiest = Math.max(busiest, Math.min(1, Math.max(0, share)));
  }
  return busiest;
}
