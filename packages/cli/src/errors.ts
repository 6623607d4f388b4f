/**
 * The CLI's own error class (codes in docs/errors.md, section CLI).
 * @packageDocumentation
 */

/** A usage or input error with a stable code; reported as `{"error":{"code","message"}}`. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  /** Stable code, e.g. `USAGE`, `UNKNOWN_COMMAND`, `NOT_JSON_OBJECT`. */
  readonly code: string;
  /** @param code - stable code; @param message - description. */
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
