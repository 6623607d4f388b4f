/**
 * The CLI's own error class (codes in docs/errors.md, section CLI).
 * @packageDocumentation
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** A usage or input error with a stable code; reported as `{"error":{"code","message"}}`. */
export class CliError extends RoomgraphError {
  override readonly name: string = 'CliError';
  /** @param code - stable code, e.g. `USAGE`, `UNKNOWN_COMMAND`, `NOT_JSON_OBJECT`; @param message - description; @param options - `cause`. */
  constructor(code: string, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}
