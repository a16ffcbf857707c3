import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { StreamClusterError } from '../../../server/core/errors.js';
import type { Container } from './types.js';

/** How one container image runs as a local process. */
export interface LocalImage {
  /** Matches the image reference, registry and tag included. */
  pattern: RegExp;
  /** The image's ENTRYPOINT, used when the container sets no command. */
  entrypoint: string[];
  /** The image's CMD, used when the container sets neither command nor args. */
  defaultArgs: string[];
  /** Stands in for the image's filesystem: relative paths and the default working directory. */
  root: string;
  /** Executables of the image mapped to local ones, such as node to this Node.js. */
  executables: Record<string, string>;
}

/** A resolved local command. */
export interface LocalCommand {
  file: string;
  args: string[];
  cwd: string;
}

/**
 * Returns the images the test cluster can run. The project's own image runs its entry point
 * (bin/streamcluster.js, the `streamcluster` command) in the repository. Any Node.js image
 * runs this Node.js in the repository, and a NATS image runs the nats-server on the PATH
 * (Debian's package).
 */
export function defaultImageTable(repoRoot: string): LocalImage[] {
  const node = { node: process.execPath, '/usr/local/bin/node': process.execPath };
  return [
    {
      pattern: /(^|\/)streamcluster(:|@|$)/,
      // The Dockerfile's ENTRYPOINT; cdk8s/install.test.ts keeps the two equal.
      entrypoint: ['node', 'bin/streamcluster.js'],
      defaultArgs: [],
      root: repoRoot,
      executables: node,
    },
    {
      pattern: /(^|\/)node(:|@|$)/,
      entrypoint: ['node'],
      defaultArgs: [],
      root: repoRoot,
      executables: node,
    },
    {
      pattern: /(^|\/)nats(:|@|$)/,
      entrypoint: ['nats-server'],
      defaultArgs: [],
      root: repoRoot,
      executables: { '/nats-server': 'nats-server', '/bin/nats-server': 'nats-server' },
    },
  ];
}

/**
 * Resolves a container to a local command with Kubernetes' rules: command replaces the
 * entrypoint and args replace the image's CMD. Throws with code IMAGE_NOT_MAPPED for an image
 * no entry matches.
 */
export function resolveCommand(table: LocalImage[], container: Container): LocalCommand {
  const image = table.find((entry) => entry.pattern.test(container.image));
  if (image === undefined) {
    throw new StreamClusterError(
      'IMAGE_NOT_MAPPED',
      `image ${container.image} has no local command; add an entry to test/cluster/agent/image-table.ts`,
    );
  }
  const command = container.command ?? image.entrypoint;
  const args = container.args ?? (container.command === undefined ? image.defaultArgs : []);
  const [executable, ...leading] = [...command, ...args];
  if (executable === undefined) {
    throw new StreamClusterError(
      'IMAGE_NOT_MAPPED',
      `container ${container.name} has no command to run`,
    );
  }
  const wanted = container.workingDir;
  const cwd =
    wanted !== undefined && isAbsolute(wanted) && existsSync(wanted) ? wanted : image.root;
  return { file: image.executables[executable] ?? executable, args: leading, cwd: join(cwd) };
}
