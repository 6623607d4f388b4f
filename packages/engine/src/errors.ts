/**
 * Typed errors of the room engine.
 * @module
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';
import type { OutcomeRule } from './outcome-codes.js';

/** Error codes of {@link EngineError}. */
export type EngineErrorCode =
  | 'ENGINE_UNKNOWN_ROOM'
  | 'ENGINE_UNKNOWN_EVENT'
  | 'ENGINE_NO_SIGNING_KEY'
  | 'ENGINE_AUTH_FAILED'
  | 'ENGINE_JOIN_REFUSED'
  | 'ENGINE_INVALID_ARGUMENT'
  | 'ENGINE_NOT_OPEN'
  | 'ENGINE_CLOSED';

/** A typed error of the room engine (local API misuse, local events that fail auth). */
export class EngineError extends RoomgraphError<EngineErrorCode> {
  override readonly name: string = 'EngineError';
  /**
   * For `ENGINE_AUTH_FAILED`: the rule that rejected the event (an {@link OutcomeRule}); for
   * `ENGINE_JOIN_REFUSED`: the resident's Matrix `errcode` (or the transport error's code).
   */
  readonly rule?: string;
  /** @param code - stable code; @param message - description; @param rule - see {@link EngineError.rule}; @param options - `cause`. */
  constructor(code: EngineErrorCode, message: string, rule?: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
    if (rule !== undefined) this.rule = rule;
  }
}
