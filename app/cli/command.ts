/** What a CLI command is: its name, how it is called, and what it does. */
import type { Config } from '../../lib/config.ts';

export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly description: string;
}

export interface CliContext {
  readonly config: Config;
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  /** Data goes to stdout (pipe it); progress and messages to stderr. */
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** stderr is a terminal: progress may redraw a line. */
  readonly interactive: boolean;
}

export interface CliCommand {
  readonly name: string;
  /** `<concertId> <ISO time>`, say. */
  readonly usage: string;
  readonly summary: string;
  readonly positionals: number;
  readonly flags?: Readonly<Record<string, Flag>>;
  run(context: CliContext): Promise<void>;
}

/** A wrong call: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export function flagText(context: CliContext, name: string): string | undefined {
  const value = context.flags[name];
  return typeof value === 'string' ? value : undefined;
}

export function wholeNumber(text: string, what: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new UsageError(`${what} must be a whole number, not "${text}"`);
  return Number(text);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id argument: a UUID, lower-cased as the store keeps it. */
export function uuidArgument(text: string, what: string): string {
  if (!UUID.test(text)) throw new UsageError(`${what} must be a UUID, not "${text}"`);
  return text.toLowerCase();
}
