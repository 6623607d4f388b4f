// The store conformance suite on PostgreSQL: always on PGlite (served over the wire protocol, so
// the store code is the same), and also on the real server of ROOMGRAPH_POSTGRES_URL when it is
// set. Each suite runs in fresh schemas it drops afterwards.
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '@roomgraph/store/conformance';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { POSTGRES_URL_ENV, startTestDatabase, type TestDatabase } from '@roomgraph/store-postgres/testing';

const kinds: ('pglite' | 'postgres')[] = ['pglite'];
if ((process.env[POSTGRES_URL_ENV] ?? '') !== '') kinds.push('postgres');

for (const kind of kinds) {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });
  const fresh = async (options = {}): Promise<PostgresRoomStore> => {
    const d = await startTestDatabase(kind);
    dbs.push(d);
    return new PostgresRoomStore(d.url, options);
  };
  runStoreConformance({
    name: `store-postgres (${kind})`,
    describe,
    it,
    factory: () => fresh(),
    reopen: async (closed) => new PostgresRoomStore((closed as PostgresRoomStore).url, { schema: (closed as PostgresRoomStore).schema }),
  });
  runStoreConformance({
    name: `store-postgres (${kind}, no caches)`,
    describe,
    it,
    factory: () => fresh({ eventCacheSize: 0, layerCacheEntries: 0, stateCacheSize: 0, authChainCacheSize: 0 }),
    reopen: async (closed) => new PostgresRoomStore((closed as PostgresRoomStore).url, { schema: (closed as PostgresRoomStore).schema, eventCacheSize: 0, layerCacheEntries: 0, stateCacheSize: 0 }),
  });
}
