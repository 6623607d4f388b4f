/**
 * Errors thrown by state resolution.
 * @module
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** Stable error codes of {@link StateResolutionError}. */
export type StateResolutionErrorCode = 'UNSUPPORTED_ALGORITHM' | 'INVALID_INPUT' | 'ABORTED';

/** A typed state-resolution failure (`name` = `StateResolutionError`, stable `code`). */
export class StateResolutionError extends RoomgraphError<StateResolutionErrorCode> {
  override readonly name: string = 'StateResolutionError';
  /** @param code - the stable code. @param message - human-readable detail. @param options - `cause`. */
  constructor(code: StateResolutionErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}
