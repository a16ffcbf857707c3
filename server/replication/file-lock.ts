import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { silentLogger, type Logger } from '../core/logger.js';
import { LogUnavailableError } from './errors.js';

/** Options for {@link FileLock}. */
export interface FileLockOptions {
  /** How long `acquire` waits for a live holder before failing; default 10 000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

/** Identity written into the lock file: pid, the process start time and a per-lock token. */
interface Owner {
  pid: number;
  startTime: string;
  token: string;
}

const MAX_BACKOFF_MS = 16;

/**
 * An exclusive lock between processes of one machine, held by creating a file with O_EXCL.
 * The file names its owner by pid and process start time, so a lock left by a process that died
 * (kill -9) is broken by the next contender, and a recycled pid is not taken for its owner.
 */
export class FileLock {
  readonly path: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #self: Owner;
  #held = false;

  constructor(path: string, options: FileLockOptions = {}) {
    this.path = path;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#logger = options.logger ?? silentLogger;
    this.#self = {
      pid: process.pid,
      startTime: startTimeOf(process.pid) ?? '',
      token: randomUUID(),
    };
  }

  /** Waits until this process holds the lock. Throws LogUnavailableError after `timeoutMs`. */
  async acquire(): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (await this.#tryCreate()) return;
      const holder = await this.#readHolder(this.path);
      if (holder && !isAlive(holder)) await this.#breakStale(holder);
      else if (Date.now() > deadline) throw this.#timeoutError(holder);
      else await sleep(Math.min(2 ** attempt, MAX_BACKOFF_MS));
    }
  }

  /** Gives the lock up. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    await unlink(this.path);
  }

  /**
   * Creates the lock file with its content in one step: written under a private name, then
   * hard-linked to the lock path, which fails with EEXIST like an O_EXCL create. A crash can
   * leave a private file behind but never an empty lock file.
   */
  /** Deletes drafts of the lock file that processes which died before linking them left behind. */
  async removeOrphanDrafts(): Promise<void> {
    const prefix = `${basename(this.path)}.`;
    for (const name of await readdir(dirname(this.path))) {
      const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
      if (
        !name.startsWith(prefix) ||
        !pid ||
        isAlive({ pid: Number(pid), startTime: '', token: '' })
      ) {
        continue;
      }
      await unlink(join(dirname(this.path), name)).catch(() => undefined);
      this.#logger.info({ file: name }, 'removed a lock draft left by a dead process');
    }
  }

  async #tryCreate(): Promise<boolean> {
    const draft = `${this.path}.${this.#self.pid}-${this.#self.token}`;
    await writeFile(draft, formatOwner(this.#self), { flag: 'w' });
    try {
      await link(draft, this.path);
      this.#held = true;
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(draft);
    }
  }

  async #readHolder(path: string): Promise<Owner | undefined> {
    try {
      return parseOwner(await readFile(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Moves a dead owner's lock file aside and deletes it. Two contenders may break the same lock
   * at once; the one that moved a live lock by mistake puts it back.
   */
  async #breakStale(stale: Owner): Promise<void> {
    const aside = `${this.path}.stale-${this.#self.token}`;
    try {
      await rename(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const moved = await this.#readHolder(aside);
    if (moved && moved.token !== stale.token) {
      // NOTE: if a third process created a lock in the meantime the restore fails, and two
      // processes believe they hold it. That needs three contenders within microseconds of a
      // crash; flock(2) would close the gap but Node offers no binding without a native addon.
      await link(aside, this.path).catch(() => undefined);
    } else {
      this.#logger.warn({ lock: this.path, deadPid: stale.pid }, 'broke lock of a dead process');
    }
    await unlink(aside);
  }

  #timeoutError(holder: Owner | undefined): LogUnavailableError {
    return new LogUnavailableError(
      `lock ${this.path} is still held by process ${holder?.pid ?? 'unknown'} after ` +
        `${this.#timeoutMs} ms; check that process, or raise the lock timeout`,
    );
  }
}

function formatOwner(owner: Owner): string {
  return `${owner.pid} ${owner.startTime || '-'} ${owner.token}\n`;
}

function parseOwner(text: string): Owner {
  const [pid, startTime, token] = text.trim().split(' ');
  // A lock file is never written in place, so unreadable content means no live owner.
  if (!pid || !token || !/^\d+$/.test(pid)) return { pid: 0, startTime: '', token: text };
  return { pid: Number(pid), startTime: startTime === '-' ? '' : (startTime ?? ''), token };
}

function isAlive(owner: Owner): boolean {
  if (owner.pid === 0) return false;
  const startTime = startTimeOf(owner.pid);
  if (startTime !== undefined && owner.startTime) return startTime === owner.startTime;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of a process in clock ticks since boot (Linux /proc), undefined elsewhere. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may contain spaces, so count from its closing paren.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
