/**
 * The base class of every typed error roomgraph throws: a `name` (the class), a stable `code` to
 * match on (messages are for people and may change), a message, and an optional `cause` (the error
 * that led to it, as standard `Error` options carry it). Every package's errors extend it, so an
 * embedder can catch `RoomgraphError` once and switch on `code`.
 *
 * @packageDocumentation
 */

/** Options of a {@link RoomgraphError}: the standard `cause`. */
export interface RoomgraphErrorOptions {
  /** The error (or value) that led to this one. */
  readonly cause?: unknown;
}

/**
 * A typed roomgraph error. Subclasses narrow `code` to their own codes and set `name` to their
 * class name.
 *
 * @typeParam C - the codes this error class carries.
 */
export class RoomgraphError<C extends string = string> extends Error {
  override readonly name: string = 'RoomgraphError';
  /** Stable machine-readable code; match on this, not on the message. */
  readonly code: C;

  /**
   * @param code - the stable code.
   * @param message - a human-readable description.
   * @param options - `cause`: the error that led to this one.
   */
  constructor(code: C, message: string, options?: RoomgraphErrorOptions) {
    super(message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
  }
}

/** Whether `e` is a {@link RoomgraphError}, optionally with the given code. */
export function isRoomgraphError(e: unknown, code?: string): e is RoomgraphError {
  return e instanceof RoomgraphError && (code === undefined || e.code === code);
}
