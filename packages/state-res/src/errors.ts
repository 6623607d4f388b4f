/**
 * Errors thrown by state resolution.
 * @module
 */

/** Stable error codes of {@link StateResolutionError}. */
export type StateResolutionErrorCode = 'UNSUPPORTED_ALGORITHM' | 'INVALID_INPUT' | 'ABORTED';

/** A typed state-resolution failure (`name` = `StateResolutionError`, stable `code`). */
export class StateResolutionError extends Error {
  /** Stable machine-readable code. */
  readonly code: StateResolutionErrorCode;
  /** @param code - the stable code. @param message - human-readable detail. */
  constructor(code: StateResolutionErrorCode, message: string) {
    super(message);
    this.name = 'StateResolutionError';
    this.code = code;
  }
}
