// Check-or-write step shared by the scripts that produce committed, generated files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes each generated file whose content on disk differs, creating its folder when needed.
 * With `check` set, writes nothing and prints each file that is out of date, naming `command` as
 * the fix. A missing file counts as out of date. Returns the number of files that differed.
 */
export function writeOrCheckGenerated(
  files: Iterable<[path: string, content: string]>,
  options: { check: boolean; command: string },
): number {
  let stale = 0;
  for (const [path, content] of files) {
    if (readOrEmpty(path) === content) continue;

    stale++;
    if (options.check) {
      console.error(`${path} is out of date; run ${options.command}`);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    console.error(`wrote ${path}`);
  }
  return stale;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // A missing file is simply out of date.
    return '';
  }
}
