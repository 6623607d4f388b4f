/**
 * The roomgraph command line: JSON commands over stdin/stdout, and the framework to add more.
 * @packageDocumentation
 */
export { main } from './main.js';
export { cliReference } from './reference.js';
export { commands } from './commands/index.js';
export {
  defineJsonCommand,
  defineMainCommand,
  parseFlags,
  stringFlag,
  runJsonCommand,
  readAll,
  lines,
  errorObject,
  writeError,
  commandHelp,
  CliError,
  EXIT,
  COMMON_FLAGS,
  type Command,
  type JsonCommand,
  type MainCommand,
  type FlagSpec,
  type Flags,
  type RunContext,
  type Io,
} from './framework.js';
export { Progress, type ProgressOptions } from './progress.js';
export { inputLines, readInput, isBlank, maxBytesFlag, DEFAULT_MAX_INPUT_BYTES, type InputLine, type InputSource, type BytesRead } from './input.js';
