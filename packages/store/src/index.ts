/**
 * Storage interfaces for the room engine, the shared state-snapshot core, and an exported
 * conformance suite (`@roomgraph/store/conformance`).
 *
 * @packageDocumentation
 */
export type {
  EventId,
  RoomId,
  StateKey,
  SnapshotId,
  PduJson,
  EventStatus,
  EventRejection,
  StoredEvent,
  RoomInfo,
  SnapshotRef,
  StateChanges,
  NewSnapshot,
  NewEvent,
  RoomCommit,
  CommitOptions,
  CommitResult,
  StateDiffEntry,
  SnapshotInfo,
  TimelineOptions,
  ServerKeyRecord,
  ParkedEvent,
  StoredInvite,
  InviteKey,
  StoreSupports,
  StoreStats,
  RoomStore,
  RoomLockHandle,
} from './interfaces.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export {
  type SnapshotLayer,
  type LayerChain,
  type SnapshotPolicy,
  DEFAULT_SNAPSHOT_POLICY,
  layerSize,
  lookupInChain,
  materialiseChain,
  planSnapshot,
  diffChains,
  LruCache,
} from './snapshots.js';
export {
  AbstractRoomStore,
  type AbstractStoreOptions,
  type StoreWriteBatch,
  type TimelineRange,
  compareParkedEvents,
  compareTopological,
} from './abstract.js';
