import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '@roomgraph/store/conformance';
import { LevelRoomStore } from '@roomgraph/store-level';

const root = mkdtempSync(join(tmpdir(), 'roomgraph-level-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

runStoreConformance({
  name: 'store-level',
  describe,
  it,
  factory: async () => new LevelRoomStore(join(root, `db${n++}`)),
  reopen: async (closed) => new LevelRoomStore((closed as LevelRoomStore).location),
});
// Small caches so reads go to LevelDB rather than the LRU.
runStoreConformance({
  name: 'store-level (no caches)',
  describe,
  it,
  factory: async () => new LevelRoomStore(join(root, `db${n++}`), { eventCacheSize: 0, layerCacheEntries: 0, stateCacheSize: 0, authChainCacheSize: 0 }),
  reopen: async (closed) => new LevelRoomStore((closed as LevelRoomStore).location, { eventCacheSize: 0, layerCacheEntries: 0, stateCacheSize: 0 }),
});
