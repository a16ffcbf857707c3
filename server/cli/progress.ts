import type { IngestStage } from '../../client/types.js';

const STAGES: IngestStage[] = ['upload', 'parse', 'chunk', 'embed', 'index'];
const BAR_WIDTH = 24;

/**
 * Progress bars for several documents at once. On a terminal the lines are redrawn in place;
 * otherwise each stage is printed at every quarter of its progress, so logs stay readable.
 */
export class ProgressBoard {
  private readonly rows = new Map<string, string>();
  private drawnLines = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(name: string, stage: IngestStage, done: number, total: number): void {
    const previous = this.rows.get(name);
    const row = formatRow(name, stage, done, total);
    this.rows.set(name, row);
    if (this.out.isTTY) this.redraw();
    else if (previous !== row && this.nextQuarter(name, stage, done, total))
      this.out.write(`${row}\n`);
  }

  finish(name: string, line: string): void {
    this.rows.set(name, line);
    if (this.out.isTTY) this.redraw();
    else this.out.write(`${line}\n`);
  }

  private readonly printedQuarter = new Map<string, number>();

  /** Without a terminal, prints a stage at 25, 50, 75 and 100 percent only. */
  private nextQuarter(name: string, stage: IngestStage, done: number, total: number): boolean {
    const key = `${name}\u0000${stage}`;
    const quarter = total > 0 ? Math.floor((4 * done) / total) : 4;
    if (quarter <= (this.printedQuarter.get(key) ?? 0)) return false;
    this.printedQuarter.set(key, quarter);
    return true;
  }

  private redraw(): void {
    if (this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}A`);
    for (const row of this.rows.values()) this.out.write(`\x1b[2K${row}\n`);
    this.drawnLines = this.rows.size;
  }
}

function formatRow(name: string, stage: IngestStage, done: number, total: number): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
  const step = `${STAGES.indexOf(stage) + 1}/${STAGES.length}`;
  const label = name.length > 32 ? `...${name.slice(-29)}` : name.padEnd(32);
  return `${label} [${bar}] ${step} ${stage.padEnd(6)} ${done}/${total}`;
}
