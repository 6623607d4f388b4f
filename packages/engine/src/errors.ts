/** Error codes of {@link EngineError}. */
export type EngineErrorCode =
  | 'ENGINE_UNKNOWN_ROOM'
  | 'ENGINE_UNKNOWN_EVENT'
  | 'ENGINE_NO_SIGNING_KEY'
  | 'ENGINE_AUTH_FAILED'
  | 'ENGINE_JOIN_REFUSED'
  | 'ENGINE_INVALID_ARGUMENT'
  | 'ENGINE_CLOSED';

/** A typed error of the room engine (local API misuse, local events that fail auth). */
export class EngineError extends Error {
  /** Stable code. */
  readonly code: EngineErrorCode;
  /** For `ENGINE_AUTH_FAILED`: the auth rule that rejected the event. */
  readonly rule?: string;
  constructor(code: EngineErrorCode, message: string, rule?: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    if (rule !== undefined) this.rule = rule;
  }
}
