/**
 * The room engine: PDU receipt checks, state before and after every event, soft failure, forward
 * extremities, missing events, local events, and serving federation requests. Depends only on the
 * store, transport and key-source interfaces.
 * @packageDocumentation
 */
export { RoomEngine, createRoomEngine } from './engine.js';
export { RoomState, type StateEntry } from './room-state.js';
export { EngineError, type EngineErrorCode } from './errors.js';
export { ENGINE_OUTCOME_CODES, type EngineOutcomeCode, type OutcomeRule } from './outcome-codes.js';
export type {
  PduStatus,
  PduOutcome,
  ReceiveOptions,
  EngineNotification,
  EngineLimits,
  EngineCacheSizes,
  RoomEngineOptions,
  LocalEventTemplate,
  CreateRoomTemplate,
  RoomPreset,
  StateChange,
} from './types.js';
export { type ReceivedInvite, DEFAULT_ENGINE_CACHE_SIZES } from './caches.js';
