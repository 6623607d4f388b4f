/**
 * Transport and key-source interfaces the room engine depends on, key sources (static, caching,
 * over federation) and an in-process network of simulated homeservers for tests.
 * @packageDocumentation
 */
export {
  type CallOptions,
  type MissingEventsRequest,
  type StateIdsResponse,
  type StateResponse,
  type MakeJoinResponse,
  type SendJoinResponse,
  type MakeMembershipResponse,
  type InviteRequest,
  type SendKnockResponse,
  type Transport,
  type FederationHandler,
  type ServerKey,
  type KeySource,
  type TransportErrorCode,
  TransportError,
  FederationRefusal,
} from './interfaces.js';
export {
  type StaticKeys,
  type KeyCache,
  StaticKeySource,
  CachingKeySource,
  MemoryKeyCache,
  FederationKeySource,
  parseServerKeys,
} from './keys.js';
export { InProcessNetwork } from './inProcess.js';
export { checkedTransport } from './checked.js';
