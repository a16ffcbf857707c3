import { ValidationError } from './errors.js';

/**
 * One setting of a command: read from a `--flag`, else an environment variable, else the
 * default. Flags win over the environment so a one-off run can override a deployment's settings.
 */
export interface Setting<T> {
  /** Flag name without dashes, such as `port`. */
  flag: string;
  /** Environment variable, such as `STREAMCLUSTER_PORT`. */
  env?: string;
  /** Help text: what the setting sets and in what unit. */
  help: string;
  default: T;
  /** Turns the raw string into a value, or throws an Error whose message states the rule. */
  parse: (raw: string) => T;
  /** True for tokens and passwords, whose invalid values are left out of error messages. */
  secret?: boolean;
}

export type Settings = Record<string, Setting<unknown>>;
export type ConfigOf<S extends Settings> = { [K in keyof S]: S[K]['default'] };

/** Parses a whole number within [min, max]. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** Parses a finite number within [min, max]. */
export function number(min: number, max = Number.MAX_VALUE): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new Error(`must be a number from ${min} to ${max}`);
    }
    return value;
  };
}

/** Parses `true`/`false` (also `1`/`0`, `yes`/`no`). */
export function boolean(raw: string): boolean {
  const lower = raw.toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  throw new Error('must be true or false');
}

/** Parses one of a fixed set of words. */
export function oneOf<T extends string>(...choices: T[]): (raw: string) => T {
  return (raw) => {
    if (!(choices as string[]).includes(raw))
      throw new Error(`must be one of ${choices.join(', ')}`);
    return raw as T;
  };
}

/** Accepts any non-empty string. */
export function text(raw: string): string {
  if (raw === '') throw new Error('must not be empty');
  return raw;
}

/** Accepts a comma-separated list; empty items are dropped. */
export function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Result of {@link parseArgs}: flag values by name and the positional arguments. */
export interface ParsedArgs {
  flags: Map<string, string>;
  positionals: string[];
}

/**
 * Splits `--name value`, `--name=value` and bare `--switch` (taken as `true` when the setting is
 * boolean) from positional arguments. Unknown flags are reported together with the valid ones.
 */
export function parseArgs(
  argv: string[],
  settings: Settings,
  extraSwitches: string[] = [],
): ParsedArgs {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  const known = new Map(Object.values(settings).map((setting) => [setting.flag, setting]));
  const problems: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' && extraSwitches.includes('help')) {
      flags.set('help', 'true');
      continue;
    }
    if (/^-[A-Za-z]/.test(arg)) {
      problems.push(`unknown flag ${arg}; flags take two dashes, such as -${arg}`);
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (extraSwitches.includes(name)) {
      flags.set(name, 'true');
      continue;
    }
    const setting = known.get(name);
    if (!setting) {
      problems.push(`unknown flag --${name}; run with --help to list the flags`);
      continue;
    }
    if (eq !== -1) {
      flags.set(name, arg.slice(eq + 1));
    } else if (typeof setting.default === 'boolean' && !isValue(argv[i + 1])) {
      flags.set(name, 'true');
    } else if (i + 1 < argv.length) {
      flags.set(name, argv[++i]!);
    } else {
      problems.push(`flag --${name} needs a value`);
    }
  }
  if (problems.length > 0) {
    // Report the values of the known flags too, so one run lists every problem on the line.
    try {
      resolveConfig(settings, flags, {});
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.problems);
    }
    throw new ValidationError(problems);
  }
  return { flags, positionals };
}

function isValue(next: string | undefined): boolean {
  return (
    next !== undefined && ['true', 'false', '1', '0', 'yes', 'no'].includes(next.toLowerCase())
  );
}

/**
 * Resolves every setting from flags, then the environment, then its default. All invalid values
 * are collected into one {@link ValidationError}, each naming the flag or variable and the value.
 */
export function resolveConfig<S extends Settings>(
  settings: S,
  flags: Map<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];

  for (const [key, setting] of Object.entries(settings)) {
    let raw: string | undefined;
    let source: string | undefined;
    if (flags.has(setting.flag)) {
      raw = flags.get(setting.flag);
      source = `--${setting.flag}`;
    } else if (setting.env && env[setting.env] !== undefined && env[setting.env] !== '') {
      raw = env[setting.env];
      source = setting.env;
    }
    if (raw === undefined || source === undefined) {
      config[key] = setting.default;
      continue;
    }
    try {
      config[key] = setting.parse(raw);
    } catch (error) {
      const message = (error as Error).message;
      const quoted = JSON.stringify(raw);
      // A message that already quotes the whole value needs no second copy of it.
      if (!setting.secret && message.includes(quoted)) problems.push(`${source} ${message}`);
      else {
        const got = setting.secret ? 'the value is not shown' : `got ${quoted}`;
        problems.push(`${source} ${message}, ${got}`);
      }
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return config as ConfigOf<S>;
}

/** Formats the settings as help text, one flag per line with its variable and default. */
export function formatHelp(settings: Settings): string {
  const rows = Object.values(settings).map((setting) => {
    const env = setting.env ? ` (${setting.env})` : '';
    const fallback =
      setting.default === undefined || setting.default === ''
        ? ''
        : ` [default: ${Array.isArray(setting.default) ? setting.default.join(',') : String(setting.default)}]`;
    return `  --${setting.flag}${env}\n      ${setting.help}${fallback}`;
  });
  return rows.join('\n');
}
