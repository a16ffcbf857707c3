import { StreamClusterError, ValidationError } from '../core/errors.js';
import { askCommand, ExitCode, ingestCommand, searchCommand } from './client-commands.js';

type Command = (argv: string[]) => Promise<number>;

/** Subcommands; the server-side ones load their modules only when run. */
const COMMANDS: Record<string, { summary: string; run: Command }> = {
  server: {
    summary: 'run a stream server',
    run: async (argv) => (await import('../app/main.js')).runServer(argv),
  },
  balancer: {
    summary: 'run the WebSocket balancer in front of stream servers',
    run: async (argv) => {
      // The balancer keeps the process alive until a signal drains it.
      await (await import('../balancer/cli.js')).runBalancer(argv);
      return 0;
    },
  },
  operator: {
    summary: 'run the Kubernetes operator',
    run: async (argv) => {
      await (await import('../../operator/main.js')).runOperator(argv);
      return 0;
    },
  },
  ingest: { summary: 'upload documents and show their progress', run: ingestCommand },
  ask: { summary: 'ask a question and stream the answer with citations', run: askCommand },
  search: { summary: 'print the chunks that best match a query', run: searchCommand },
};

function help(): string {
  const rows = Object.entries(COMMANDS).map(
    ([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`,
  );
  return `usage: streamcluster COMMAND [flags]\n\ncommands:\n${rows.join('\n')}\n\nRun streamcluster COMMAND --help for its flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return ExitCode.usage;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof ValidationError) {
      process.stderr.write(
        `invalid arguments:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n`,
      );
      return ExitCode.usage;
    }
    const message = startupFailure(error);
    if (message === undefined) throw error;
    process.stderr.write(`${name}: ${message}\n`);
    // A listener opened before the failure would keep the process running.
    process.exit(ExitCode.failure);
  }
}

/**
 * Returns a one-line message for failures a user can fix without a stack trace: the project's
 * own errors, which name the value and the fix, and common system errors such as a port in use
 * or a missing file. Returns undefined for anything else, which keeps its stack trace.
 */
function startupFailure(error: unknown): string | undefined {
  if (error instanceof StreamClusterError) return `${error.message} (${error.code})`;
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') {
    const { address, port } = error as { address?: string; port?: number };
    return `${address ?? ''}:${port ?? ''} is already in use; choose another port in the flags or stop the process that holds it (EADDRINUSE)`;
  }
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return `${message}; check the path or address in the flags (${code})`;
  }
  return undefined;
}

process.exitCode = await main(process.argv.slice(2));
