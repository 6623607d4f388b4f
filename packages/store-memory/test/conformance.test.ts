import { describe, it } from 'vitest';
import { runStoreConformance } from '@roomgraph/store/conformance';
import { MemoryRoomStore } from '@roomgraph/store-memory';

runStoreConformance({ name: 'store-memory', describe, it, factory: async () => new MemoryRoomStore() });
// The same suite with a tiny snapshot policy (depth 2, ratio 2) to stress compaction paths.
runStoreConformance({
  name: 'store-memory (depth 2)',
  describe,
  it,
  factory: async () => new MemoryRoomStore({ snapshotPolicy: { maxDepth: 2, deltaRatio: 2, baseRatio: 2 } }),
});
