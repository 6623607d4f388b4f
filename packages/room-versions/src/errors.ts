import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** Error codes raised by this package. */
export type RoomVersionErrorCode =
  | 'ROOM_VERSION_UNKNOWN'
  | 'ROOM_VERSION_INVALID_ID'
  | 'ROOM_VERSION_UNKNOWN_FLAG'
  | 'ROOM_VERSION_ALREADY_REGISTERED';

/** A typed error about room versions: an unknown identifier, a bad custom version. */
export class RoomVersionError extends RoomgraphError<RoomVersionErrorCode> {
  override readonly name: string = 'RoomVersionError';
  /** @param code - stable code; @param message - description; @param options - `cause`. */
  constructor(code: RoomVersionErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}
