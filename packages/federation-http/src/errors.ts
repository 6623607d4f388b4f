/**
 * Errors of the HTTP federation package.
 * @module
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** Error codes of {@link FederationHttpError}. */
export type FederationHttpErrorCode =
  | 'FED_BAD_SERVER_NAME'
  | 'FED_BAD_AUTH_HEADER'
  | 'FED_RESOLVE_FAILED'
  | 'FED_QUEUE_IO'
  | 'FED_BAD_CONFIG';

/** A typed error of `@roomgraph/federation-http` (bad configuration, unparsable input). */
export class FederationHttpError extends RoomgraphError<FederationHttpErrorCode> {
  override readonly name: string = 'FederationHttpError';
  /** @param code - stable code; @param message - description; @param options - `cause`. */
  constructor(code: FederationHttpErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}

/** A Matrix error answer: the HTTP status, `errcode` and `error` of the JSON body. */
export class MatrixHttpError extends RoomgraphError<'FED_MATRIX_ERROR'> {
  override readonly name: string = 'MatrixHttpError';
  /** HTTP status code. */
  readonly status: number;
  /** Matrix error code, e.g. `M_FORBIDDEN`. */
  readonly errcode: string;
  /** Extra fields of the error body (e.g. `retry_after_ms`). */
  readonly extra: Readonly<Record<string, number | string>>;
  /** @param status - HTTP status; @param errcode - Matrix errcode; @param message - `error`; @param extra - more body fields. */
  constructor(status: number, errcode: string, message: string, extra: Readonly<Record<string, number | string>> = {}) {
    super('FED_MATRIX_ERROR', message);
    this.status = status;
    this.errcode = errcode;
    this.extra = extra;
  }
}

/**
 * The HTTP status the spec gives each Matrix error code this package answers with (Client-Server
 * API › Standard error response and the Server-Server endpoints' documented responses).
 */
export function statusOfErrcode(errcode: string | undefined): number {
  switch (errcode) {
    case 'M_UNAUTHORIZED': return 401;
    case 'M_FORBIDDEN': return 403;
    case 'M_NOT_FOUND': case 'M_UNRECOGNIZED': return 404;
    case 'M_TOO_LARGE': return 413;
    case 'M_LIMIT_EXCEEDED': return 429;
    case 'M_BAD_JSON': case 'M_NOT_JSON': case 'M_INVALID_PARAM': case 'M_MISSING_PARAM':
    case 'M_INCOMPATIBLE_ROOM_VERSION': case 'M_UNABLE_TO_AUTHORISE_JOIN': case 'M_UNABLE_TO_GRANT_JOIN':
    case 'M_UNSUPPORTED_ROOM_VERSION':
      return 400;
    default: return 500;
  }
}
