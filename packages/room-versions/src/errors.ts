/** Error codes raised by this package. */
export type RoomVersionErrorCode =
  | 'ROOM_VERSION_UNKNOWN'
  | 'ROOM_VERSION_INVALID_ID'
  | 'ROOM_VERSION_UNKNOWN_FLAG'
  | 'ROOM_VERSION_ALREADY_REGISTERED';

/** A typed error about room versions: an unknown identifier, a bad custom version. */
export class RoomVersionError extends Error {
  /** Stable machine-readable code. */
  readonly code: RoomVersionErrorCode;
  constructor(code: RoomVersionErrorCode, message: string) {
    super(message);
    this.name = 'RoomVersionError';
    this.code = code;
  }
}
