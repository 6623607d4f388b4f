/**
 * Matrix state resolution v1, v2 and v2.1, with auth-chain caching and a chain cover index.
 * @packageDocumentation
 */
export {
  type StateResolutionSource,
  type ResolveOptions,
  type ResolveSyncOptions,
  type SyncEventLookup,
  resolveState,
  resolveStateDelta,
  resolveStateSync,
  resolveStateDeltaSync,
  authChainOf,
  authDifference,
  conflictedStateSubgraph,
  reverseTopologicalPowerOrder,
  mainlineOrder,
  iterativeAuthChecks,
} from './api.js';
export { type AuthChecker, type StateDelta, DEFAULT_RESOLUTION_CACHE_EVENTS, ResolutionCache, type ResolutionCacheOptions, defaultAuthChecker } from './run.js';
export { type Split, type StateLayers, splitStateSets } from './split.js';
export { type AuthChainProvider, ChainCoverIndex } from './chainCover.js';
export { type EventLookup, isPowerEvent, parsePowerLevel, senderPowerLevel, createEventFor, creatorsOf } from './power.js';
export { compareCodePoints } from '@roomgraph/canonical-json';
export { sha1Hex } from './sha1.js';
export { StateResolutionError, type StateResolutionErrorCode } from './errors.js';
