/**
 * Matrix room versions 1–12 as frozen rules objects (feature flags), with lookup, registries and
 * derivation of custom versions. Dependency-free: the vocabulary every other roomgraph package
 * shares.
 * @packageDocumentation
 */
export type {
  RoomVersionId,
  RoomVersionRules,
  EventFormatRules,
  CanonicalJsonRules,
  SignatureRules,
  RedactionRules,
  AuthorizationRules,
  StateResolutionRules,
  DeepPartial,
} from './rules.js';
export { RoomVersionError, type RoomVersionErrorCode } from './errors.js';
export { V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, deriveRoomVersion } from './versions.js';
export {
  ROOM_VERSIONS,
  DEFAULT_ROOM_VERSION,
  RoomVersionRegistry,
  getRoomVersion,
  isRoomVersionRules,
  resolveRoomVersion,
  renderRulesTable,
} from './registry.js';
