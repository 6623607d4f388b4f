/**
 * Entry point of the `roomgraph` command line.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { loadCommand } from './commands/loaders.js';
import { CliError, EXIT, commandHelp, runJsonCommand, writeError, type Command, type Io } from './framework.js';

/** Every command (loads every command's module: for help only). */
async function allCommands(): Promise<readonly Command[]> {
  return (await import('./commands/index.js')).commands;
}

function generalHelp(commands: readonly Command[]): string {
  let out = 'Usage: roomgraph <command> [flags]\n\nCommands:\n';
  for (const c of commands) out += `  ${c.name.padEnd(16)} ${c.summary}\n`;
  out += '  help [command]   show this help, or a command\'s flags, input shape and an example\n';
  out += '  --version        print the version\n';
  out +=
    '\nJSON commands read one JSON document on stdin and write one line of canonical JSON on stdout.\n' +
    'With --jsonl they read one document per line and write exactly one line per input line\n' +
    '(errors as {"error":{"code":"...","message":"..."}} on that line). Without --jsonl an error goes\n' +
    'to stderr as that object and the exit code is 2. --lenient accepts floats (room versions 1-5).\n' +
    'stdin is read as bytes: invalid UTF-8 is an error (JSON_INVALID_UTF8). Lines end at LF or CRLF\n' +
    '(a bare CR is whitespace). --max-bytes N limits a document or line (default 1048576).\n' +
    'Exit status: 0 success, 1 ingest found unparsable lines, 2 error. Error codes: docs/errors.md.\n';
  return out;
}

/** The CLI's version (from its package.json, one level above both `src/` and `dist/`). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

async function find(name: string): Promise<Command | undefined> {
  // Only the named command's module: a short-lived command does not load every other's.
  return (await loadCommand(name)) ?? (await allCommands()).find((c) => c.name === name);
}

/**
 * Runs the command line with the given arguments; resolves to the exit code (0 success — with
 * `--jsonl`, the run completed and each line's failure is on its own output line; 1 `ingest`
 * completed but some input line was unparsable; 2 error). Codes: docs/errors.md › CLI.
 * @param argv - arguments after the program name, e.g. `['canonicalize', '--jsonl']`.
 * @param io - streams to use instead of the process's (for tests and embedding).
 */
export async function main(argv: readonly string[], io?: Partial<Io>): Promise<number> {
  const streams: Io = {
    stdin: io?.stdin ?? process.stdin,
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
  };
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    streams.stdout.write(`roomgraph ${version()} (node ${process.versions.node})\n`);
    return EXIT.OK;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined) {
      const cmd = await find(topic);
      if (cmd === undefined) {
        writeError(streams.stderr, new CliError('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(topic)}`));
        return EXIT.ERROR;
      }
      streams.stdout.write(commandHelp(cmd));
      return EXIT.OK;
    }
    streams.stdout.write(generalHelp(await allCommands()));
    return name === undefined ? EXIT.ERROR : EXIT.OK;
  }
  const cmd = await find(name);
  if (cmd === undefined) {
    writeError(streams.stderr, new CliError('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(name)}; try roomgraph help`));
    return EXIT.ERROR;
  }
  try {
    return cmd.kind === 'json' ? await runJsonCommand(cmd, rest, streams) : await cmd.main(rest, streams);
  } catch (e) {
    writeError(streams.stderr, e);
    return EXIT.ERROR;
  }
}
