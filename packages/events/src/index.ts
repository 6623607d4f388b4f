/**
 * Matrix PDUs: the shared event view, parsing and validation, redaction, event and room IDs,
 * building and signing events, auth event selection.
 * @packageDocumentation
 */
export {
  type RoomEvent,
  type StateLookup,
  type StateMap,
  isStateEvent,
  stateKeyOf,
  flatStateKeyOf,
  stateKeyOfEvent,
  shareStateKey,
  splitStateKey,
  stateLookupOf,
  type StateEntries,
  stateEntriesOf,
  distinctIds,
  toRoomEvent,
  domainOf,
} from './view.js';
export { AuthPairBuffer, type AuthSelectionInput, MEMBER_KEY_CACHE_SIZE, authEventTypes, authPairsInto, authStateKeys, selectAuthEvents } from './authEventsSelection.js';
export { EventsError, type EventsErrorCode, PduFormatError, type PduProblem, type PduProblemCode } from './errors.js';
export {
  MAX_PDU_BYTES,
  MAX_FIELD_BYTES,
  MAX_PREV_EVENTS,
  MAX_AUTH_EVENTS,
  MAX_DEPTH_V1,
  MAX_DEPTH_V6,
  utf8ByteLength,
} from './limits.js';
export { isValidServerName, isValidUserId, isValidRoomId, isValidEventId, type UserIdOptions } from './grammar.js';
export type { Pdu, PduJson, PduBaseJson, PduV1Json, PduV3Json, PduV11Json, PduV12Json, EventReferenceV1, EventHashes, EventSignatures } from './types.js';
export { redact } from './redact.js';
export { contentHash, checkContentHash, referenceHash, redactedSigningBytes } from './hashes.js';
export { eventId, roomIdFromCreateEvent } from './ids.js';
export { parsePdu, parsePduText, validatePdu, type ParsePduOptions, type PduValidation } from './parse.js';
export { buildEvent, type BuildEventInput, type BuildEventOptions, type EventReferenceInput } from './build.js';
export {
  hashAndSignEvent,
  addEventSignature,
  verifyEventSignatures,
  verifyEventSignaturesAsync,
  requiredSigningServers,
  signedForm,
  type EventSigner,
  type SignedEvent,
  type VerifyKey,
  type KeyLookup,
  type SignatureCheckResult,
} from './sign.js';
