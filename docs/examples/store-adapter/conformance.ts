// Runs roomgraph's store conformance suite on LogRoomStore (any runner with describe/it works).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { runStoreConformance } from '@roomgraph/store/conformance';
import { LogRoomStore } from './log-store.js';

runStoreConformance({
  name: 'LogRoomStore',
  describe,
  it,
  factory: async () => new LogRoomStore(join(mkdtempSync(join(tmpdir(), 'log-store-')), 'room.log')),
  reopen: async (closed) => new LogRoomStore((closed as LogRoomStore).file),
});
