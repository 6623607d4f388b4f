/**
 * `roomgraph serve --store postgres://…`: two nodes, each on its own schema of one PostgreSQL
 * server (PGlite in the test process, or the server of ROOMGRAPH_POSTGRES_URL), federate over
 * HTTPS: create, join, messages both ways, the same state; a restart on the same schema keeps it.
 * The processes run the built CLI (`dist/`), as `npm test` builds before testing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '@roomgraph/store-postgres/testing';
import { type CertFiles, type NodeHome, ServeProcess, makeCerts, newHome } from './serveHarness.js';

type Json = Record<string, unknown>;

let certs: CertFiles;
let pg: TestServer;
const running = new Set<ServeProcess>();

beforeAll(async () => {
  certs = await makeCerts();
  pg = await startTestServer();
});
afterAll(async () => {
  for (const p of running) await p.signal('SIGKILL');
  await pg.close();
});

async function start(home: NodeHome, url: string): Promise<ServeProcess> {
  const p = await ServeProcess.start(home, certs, ['--store', url, '--queue-file', join(home.dir, 'queue.jsonl')]);
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
}

async function waitFor(n: ServeProcess, room: unknown, eventId: unknown): Promise<void> {
  expect(await n.ok({ op: 'wait', room_id: room, event_id: eventId, timeout_ms: 30_000 })).toEqual({ found: true });
}

describe('roomgraph serve on PostgreSQL', () => {
  it('two nodes on two schemas: create, join, messages both ways, the same state; a restart keeps it', async () => {
    const [ha, hb] = [await newHome(), await newHome()];
    const [ua, ub] = [pg.newDatabase().url, pg.newDatabase().url];
    const a = await start(ha, ua);
    const b = await start(hb, ub);
    const alice = `@alice:${ha.name}`;
    const bob = `@bob:${hb.name}`;
    const { room_id: room } = await a.ok({ op: 'create_room', creator: alice, room_version: '10', preset: 'public_chat' });
    const join = await b.ok({ op: 'join', room_id: room, via: ha.name, user_id: bob });
    await waitFor(a, room, join['event_id']);
    const m1 = await a.ok({ op: 'send', room_id: room, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: 'from a' } });
    const m2 = await b.ok({ op: 'send', room_id: room, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'from b' } });
    for (const n of [a, b]) {
      await waitFor(n, room, m1['event_id']);
      await waitFor(n, room, m2['event_id']);
    }
    const merge = await a.ok({ op: 'send', room_id: room, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: 'merge' } });
    await waitFor(b, room, merge['event_id']);
    const sa: Json = await a.ok({ op: 'state', room_id: room });
    expect(await b.ok({ op: 'state', room_id: room })).toEqual(sa);
    expect(Object.keys((sa['state'] as Json)['m.room.member'] as Json).sort()).toEqual([alice, bob].sort());
    expect(await a.stop()).toBe(0);
    const a2 = await start(ha, ua);
    expect(await a2.ok({ op: 'state', room_id: room })).toEqual(sa);
    expect(await a2.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  }, 300_000);

  it('a postgres:// store without --queue-file is a usage error', async () => {
    const h = await newHome();
    await expect(ServeProcess.start(h, certs, ['--store', pg.newDatabase().url])).rejects.toThrow(/queue-file is required/);
  });
});
