/**
 * The command framework of the `roomgraph` CLI: command definitions, flag parsing, JSON / JSON Lines
 * I/O and the error contract. Commands live in `src/commands/<name>.ts` and are registered in
 * `src/commands/index.ts`.
 * @packageDocumentation
 */
import {
  CanonicalJsonError,
  encodeCanonicalJson,
  parseCanonicalJson,
  type JsonValue,
} from '@roomgraph/canonical-json';
import { CliError } from './errors.js';
import { type InputSource, inputLines, isBlank, maxBytesFlag, readInput } from './input.js';

export { CliError };

/** Where a command reads and writes. `main` defaults these to the process streams. */
export interface Io {
  /** Standard input (a Node readable stream of bytes, or a string/bytes for tests). */
  readonly stdin: InputSource;
  /** Standard output. */
  readonly stdout: { write(chunk: string): unknown };
  /** Standard error. */
  readonly stderr: { write(chunk: string): unknown };
}

/** Declaration of one `--flag`. */
export interface FlagSpec {
  /** `string` flags take a value (`--name v` or `--name=v`); `boolean` flags take none. */
  readonly type: 'string' | 'boolean';
  /** One-line description for `--help`. */
  readonly description: string;
  /** Whether the command refuses to run without it. */
  readonly required?: boolean;
}

/** Parsed flags: string flags map to their value, boolean flags to `true`; absent flags are missing. */
export type Flags = Readonly<Record<string, string | boolean | undefined>>;

/** Context given to a JSON command's `run`. */
export interface RunContext {
  /** `--lenient`: input parsed and output encoded with room versions 1–5 rules (floats allowed). */
  readonly lenient: boolean;
}

/**
 * A JSON-in/JSON-out command: the framework reads stdin (one document, or one per line with
 * `--jsonl`), calls `run` per document, and writes the result as one line of canonical JSON (a
 * string result is written as is).
 */
export interface JsonCommand {
  readonly kind: 'json';
  /** Command name (`roomgraph <name>`). */
  readonly name: string;
  /** One-line summary for `roomgraph help`. */
  readonly summary: string;
  /** Command-specific flags (`--jsonl`, `--lenient` and `--help` are added by the framework). */
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Computes the result for one input document; throw to report an error for that document. */
  run(input: JsonValue, flags: Flags, ctx: RunContext): JsonValue | string;
  /**
   * Parse input with the room version 1–5 rules even without `--lenient` (commands whose input
   * names its room version, which then decides how strict to be: a v1–v5 event may hold floats).
   */
  readonly lenientInput?: boolean;
  /** Input shape and examples, shown by `--help` after the flags. */
  readonly usage?: string;
}

/** A command that handles its own argv and I/O (streaming or interactive commands). */
export interface MainCommand {
  readonly kind: 'main';
  /** Command name. */
  readonly name: string;
  /** One-line summary for `roomgraph help`. */
  readonly summary: string;
  /** Flags, for `--help` only (the command parses argv itself; see {@link parseFlags}). */
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Input shape and examples, shown by `--help` after the flags. */
  readonly usage?: string;
  /** Runs the command; resolves to the exit code. */
  main(argv: readonly string[], io: Io): Promise<number>;
}

/** Any command. */
export type Command = JsonCommand | MainCommand;

/** Identity helper that type-checks a JSON command definition. */
export function defineJsonCommand(c: Omit<JsonCommand, 'kind'>): JsonCommand {
  return { kind: 'json', ...c };
}

/** Identity helper that type-checks a main command definition. */
export function defineMainCommand(c: Omit<MainCommand, 'kind'>): MainCommand {
  return { kind: 'main', ...c };
}

/**
 * Exit codes of the CLI: 0 success; 1 the run completed but some input line could not be used
 * (`ingest`: an unparsable line); 2 error (bad flags, bad input document, unreadable file).
 */
export const EXIT = Object.freeze({ OK: 0, SOME_LINES_FAILED: 1, ERROR: 2 });

/** The flags every JSON command accepts. */
export const COMMON_FLAGS: Readonly<Record<string, FlagSpec>> = Object.freeze({
  jsonl: { type: 'boolean', description: 'read one JSON document per line, write one result line per input line' },
  lenient: { type: 'boolean', description: 'room versions 1-5 mode: accept floats and out-of-range integers' },
  'max-bytes': { type: 'string', description: 'largest input document (with --jsonl: line) in bytes; default 1048576 (a PDU is at most 65536); a longer line gives an INPUT_TOO_LARGE error line' },
  help: { type: 'boolean', description: 'show help for this command' },
});

/**
 * Parses `--name value`, `--name=value` and boolean `--name` flags against `spec`.
 * @throws {@link CliError} `USAGE` for unknown flags, missing values, positional arguments or
 *   missing required flags.
 */
export function parseFlags(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): Flags {
  const out: Record<string, string | boolean> = Object.create(null) as Record<string, string | boolean>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') throw new CliError('USAGE', `unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const f = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (f === undefined) throw new CliError('USAGE', `unknown flag --${name}`);
    if (f.type === 'boolean') {
      if (eq >= 0) throw new CliError('USAGE', `flag --${name} takes no value`);
      out[name] = true;
    } else if (eq >= 0) {
      out[name] = arg.slice(eq + 1);
    } else {
      const v = argv[++i];
      if (v === undefined) throw new CliError('USAGE', `flag --${name} needs a value`);
      out[name] = v;
    }
  }
  if (!out.help) {
    for (const [name, f] of Object.entries(spec)) {
      if (f.required && out[name] === undefined) throw new CliError('USAGE', `missing required flag --${name}`);
    }
  }
  return out;
}

/** The value of a string flag (use for flags declared `required`). */
export function stringFlag(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string') throw new CliError('USAGE', `missing required flag --${name}`);
  return v;
}

/** Longest message in an error object (a message may quote hostile input). */
const MAX_MESSAGE = 1000;

/** The `{"error":{...}}` object for any thrown value. */
export function errorObject(e: unknown): { error: { code: string; message: string } } {
  const bound = (m: string): string => (m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE)}…` : m);
  if (e instanceof CanonicalJsonError || e instanceof CliError) return { error: { code: e.code, message: bound(e.message) } };
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
    return { error: { code: (e as unknown as { code: string }).code, message: bound(e.message) } };
  }
  return { error: { code: 'INTERNAL', message: bound(e instanceof Error ? e.message : String(e)) } };
}

/** Writes the error object as one line. */
export function writeError(stream: Io['stdout'], e: unknown): void {
  stream.write(JSON.stringify(errorObject(e)) + '\n');
}

/**
 * Reads all of stdin as bytes, at most `maxBytes` (default 1 MiB).
 * @throws {@link CliError} `INPUT_TOO_LARGE` when stdin is longer.
 */
export async function readAll(stdin: Io['stdin'], maxBytes?: number): Promise<Uint8Array> {
  return readInput(stdin, maxBytes);
}

/**
 * Iterates stdin line by line as strings: lines end at `\n` (or `\r\n`; a bare `\r` does not end
 * a line; a final newline does not start an extra line). Lines are decoded as strict UTF-8.
 * Commands that must report a bad line on its own output line use `inputLines` (bytes) instead.
 * @throws {@link CliError} `JSON_INVALID_UTF8` for a line that is not UTF-8, `INPUT_TOO_LARGE` for a
 *   line longer than `maxBytes` (default 1 MiB).
 */
export async function* lines(stdin: Io['stdin'], maxBytes?: number): AsyncIterable<string> {
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for await (const line of inputLines(stdin, maxBytes)) {
    if (line.tooLong === true) throw new CliError('INPUT_TOO_LARGE', `line ${line.lineNo} has ${line.size} bytes, more than ${maxBytes ?? 'the limit'}`);
    try {
      yield utf8.decode(line.bytes);
    } catch {
      throw new CliError('JSON_INVALID_UTF8', `line ${line.lineNo} is not valid UTF-8`);
    }
  }
}

function runOne(cmd: JsonCommand, input: string | Uint8Array, flags: Flags, ctx: RunContext): string {
  const lenient = ctx.lenient || cmd.lenientInput === true;
  const value = parseCanonicalJson(input, { strict: !lenient });
  const result = cmd.run(value, flags, ctx);
  return typeof result === 'string' ? result : encodeCanonicalJson(result, { strict: !lenient });
}

/**
 * Runs a JSON command with the I/O contract:
 * - default: stdin is one JSON document; the result is one line on stdout, exit 0; an error is
 *   `{"error":{"code","message"}}` on stderr, exit 2;
 * - `--jsonl`: every input line gives exactly one output line, in order — the result, or the error
 *   object for that line (blank lines included: code `EMPTY_LINE`); processing continues; exit 0.
 */
export async function runJsonCommand(cmd: JsonCommand, argv: readonly string[], io: Io): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv, { ...COMMON_FLAGS, ...cmd.flags });
  } catch (e) {
    writeError(io.stderr, e);
    return EXIT.ERROR;
  }
  if (flags.help) {
    io.stdout.write(commandHelp(cmd));
    return EXIT.OK;
  }
  const ctx: RunContext = { lenient: flags.lenient === true };
  let maxBytes: number;
  try {
    maxBytes = maxBytesFlag(flags['max-bytes']);
  } catch (e) {
    writeError(io.stderr, e);
    return EXIT.ERROR;
  }
  if (!flags.jsonl) {
    try {
      io.stdout.write(runOne(cmd, await readAll(io.stdin, maxBytes), flags, ctx) + '\n');
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    }
  }
  // A failing line is reported on its own output line and processing continues: the run itself
  // succeeded, so the exit code is 0 (scripts read the per-line results).
  for await (const line of inputLines(io.stdin, maxBytes)) {
    try {
      if (line.tooLong === true) throw new CliError('INPUT_TOO_LARGE', `the line has ${line.size} bytes, more than ${maxBytes} (--max-bytes)`);
      if (isBlank(line.bytes)) throw new CliError('EMPTY_LINE', 'empty input line');
      io.stdout.write(runOne(cmd, line.bytes, flags, ctx) + '\n');
    } catch (e) {
      writeError(io.stdout, e);
    }
  }
  return EXIT.OK;
}

/** Help text of one command. */
export function commandHelp(cmd: Command): string {
  const all = cmd.kind === 'json' ? { ...cmd.flags, ...COMMON_FLAGS } : cmd.flags;
  let out = `roomgraph ${cmd.name} — ${cmd.summary}\n`;
  const entries = Object.entries(all);
  if (entries.length > 0) {
    out += '\nFlags:\n';
    for (const [name, f] of entries) {
      const left = `  --${name}${f.type === 'string' ? ' VALUE' : ''}`;
      out += `${left.padEnd(26)} ${f.description}${f.required ? ' (required)' : ''}\n`;
    }
  }
  if (cmd.kind === 'json') out += '\nReads JSON on stdin, writes canonical JSON on stdout (see `roomgraph help`).\n';
  if (cmd.usage !== undefined) out += '\n' + cmd.usage.trim() + '\n';
  return out;
}
