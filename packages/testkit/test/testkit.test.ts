import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkAuth } from '@roomgraph/auth';
import { PduFormatError, parsePdu, roomIdFromCreateEvent, stateKeyOf, toRoomEvent, verifyEventSignatures, type RoomEvent, type StateLookup } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { resolveStateSync } from '@roomgraph/state-res';
import {
  assertProperty,
  buildRoomDag,
  checkAgreement,
  checkIdempotence,
  checkOrderIndependence,
  checkResolvedStateIsAuthorised,
  checkUnconflictedPreserved,
  describeDag,
  hostilePdu,
  joinRulesOf,
  membershipChange,
  powerEventsAuthorisedAgainstResult,
  powerLevelsContent,
  propertyRuns,
  roomDag,
  roomgraphResolver,
  stateSetsOf,
  type RoomDag,
  type Resolver,
} from '@roomgraph/testkit';
// The README's example of testing your own resolver runs as part of this suite.
import '../examples/my-resolver.test.ts';

const RUNS = propertyRuns(300);
const VERSIONS = ['1', '10', '11', '12'] as const;

function lookupOf(dag: RoomDag, state: ReadonlyMap<string, string>): StateLookup<RoomEvent> {
  return { get: (t, sk) => { const id = state.get(stateKeyOf(t, sk)); return id === undefined ? undefined : dag.eventsById.get(id); } };
}

/** Re-derives every event's state independently and checks it passes auth against it. */
function assertValid(dag: RoomDag): void {
  const seen = new Set<string>();
  for (const e of dag.events) {
    for (const p of e.prevEvents) expect(seen.has(p), `${e.eventId}: prev ${p} comes first`).toBe(true);
    seen.add(e.eventId);
    const prevStates = e.prevEvents.map((p) => dag.stateAfter.get(p)!);
    const before = prevStates.length === 0 ? new Map<string, string>() : prevStates.length === 1 ? prevStates[0]! : resolveStateSync(dag.rules, prevStates, dag.eventsById);
    expect([...dag.stateBefore.get(e.eventId)!].sort()).toEqual([...before].sort());
    const values = new Set(before.values());
    for (const a of e.authEvents) expect(values.has(a), `${e.eventId}: auth event ${a} is in the state before it`).toBe(true);
    const authEvents = e.authEvents.map((a) => dag.eventsById.get(a)!);
    const createId = before.get(stateKeyOf('m.room.create', ''));
    if (createId !== undefined && !dag.rules.eventFormat.createEventInAuthEvents) authEvents.push(dag.eventsById.get(createId)!);
    const r = checkAuth(e, lookupOf(dag, before), dag.rules, { authEvents });
    expect(r, `${e.eventId} passes auth\n${describeDag(dag)}`).toEqual({ allowed: true });
  }
}

describe('roomDag generates valid DAGs', () => {
  it('every event of every room version passes checkAuth against the state before it', () => {
    fc.assert(
      fc.property(roomDag(), (dag) => {
        assertValid(dag);
        expect(dag.events[0]!.type).toBe('m.room.create');
        if (dag.rules.eventFormat.roomIdFormat === 'create-event-hash') expect(dag.roomId).toBe('!' + dag.events[0]!.eventId.slice(1));
        if (dag.rules.authorization.creatorInContent) expect(dag.events[0]!.content['creator']).toBe(dag.users[0]);
        else expect(dag.events[0]!.content['creator']).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('has forks, merges, and a variety of kept actions', () => {
    const dags = fc.sample(roomDag({ roomVersions: '10' }), { numRuns: 300, seed: 7 });
    const kept = new Set(dags.flatMap((d) => d.log.filter((l) => l.eventId !== undefined).map((l) => l.action.kind)));
    for (const k of ['join', 'leave', 'invite', 'kick', 'ban', 'power', 'joinRule', 'topic', 'name', 'message', 'merge'] as const) expect(kept.has(k), k).toBe(true);
    expect(dags.some((d) => d.events.some((e) => e.prevEvents.length > 1))).toBe(true);
    expect(dags.filter((d) => d.extremities.length > 1).length).toBeGreaterThan(30);
    const knocks = fc.sample(roomDag({ roomVersions: '7', kinds: ['join', 'joinRule', 'knock', 'invite', 'leave'] }), { numRuns: 300, seed: 7 });
    expect(knocks.some((d) => d.events.some((e) => e.content['membership'] === 'knock'))).toBe(true);
  });

  it('is deterministic: a plan always gives the same DAG', () => {
    fc.assert(fc.property(roomDag(), (dag) => {
      const again = buildRoomDag(dag.plan);
      expect(again.events.map((e) => e.json)).toEqual(dag.events.map((e) => e.json));
    }), { numRuns: 50 });
  });

  it('real-signature mode: parsePdu accepts every event, IDs are reference hashes and signatures verify', () => {
    fc.assert(
      fc.property(roomDag({ ids: 'real', roomVersions: ['1', '3', '10', '11', '12'], maxActions: 12 }), (dag) => {
        assertValid(dag);
        for (const e of dag.events) {
          const pdu = parsePdu(JSON.parse(JSON.stringify(e.json)), dag.rules);
          expect(pdu.eventId).toBe(e.eventId);
          expect(verifyEventSignatures(pdu, dag.rules, dag.keyLookup!).status).toBe('ok');
        }
        if (dag.rules.eventFormat.roomIdFormat === 'create-event-hash') expect(dag.roomId).toBe(roomIdFromCreateEvent(dag.events[0]!.json, dag.rules));
      }),
      { numRuns: Math.max(20, Math.floor(RUNS / 10)) },
    );
  });
});

describe.each(VERSIONS)('state resolution properties, room version %s (roomgraph resolver)', (v) => {
  const opts = { roomVersions: v };
  it('order independence', async () => assertProperty(checkOrderIndependence(roomgraphResolver, opts), { numRuns: RUNS }));
  it('idempotence', async () => assertProperty(checkIdempotence(roomgraphResolver, opts), { numRuns: RUNS }));
  it('unconflicted state preserved (v2, v2.1)', async () => assertProperty(checkUnconflictedPreserved(roomgraphResolver, opts), { numRuns: RUNS }));
  it('resolved state is well-formed and from the inputs', async () => assertProperty(checkResolvedStateIsAuthorised(roomgraphResolver, opts), { numRuns: RUNS }));
  it('agrees with itself through an async wrapper', async () => {
    const asyncOurs: Resolver = async (rv, sets, events) => roomgraphResolver(rv, [...sets].reverse(), events);
    await assertProperty(checkAgreement(asyncOurs, roomgraphResolver, opts), { numRuns: Math.floor(RUNS / 3) });
  });
});

describe('the properties catch wrong resolvers, with small shrunk counterexamples', () => {
  const lastSetWins: Resolver = (_v, sets) => new Map(sets[sets.length - 1]);
  const dropsPowerLevels: Resolver = (v, sets, events) => {
    const r = resolveStateSync(v, sets, events);
    if (sets.length > 1) r.delete(stateKeyOf('m.room.power_levels', ''));
    return r;
  };

  it('order independence catches "last set wins"', async () => {
    const report = await fc.check(checkOrderIndependence(lastSetWins, { roomVersions: '10' }), { numRuns: 1000, seed: 1 });
    expect(report.failed).toBe(true);
    const [c] = report.counterexample!;
    expect(c.dag.events.length).toBeLessThanOrEqual(6);
    expect(String(report.errorInstance)).toContain('order independence');
  });

  it('checkAgreement catches a resolver that drops power levels; the shrunk DAG is tiny', async () => {
    const report = await fc.check(checkAgreement(dropsPowerLevels, roomgraphResolver, { roomVersions: '12' }), { numRuns: 1000, seed: 2 });
    expect(report.failed).toBe(true);
    const [c] = report.counterexample!;
    expect(c.dag.events.length).toBeLessThanOrEqual(5);
    expect(c.dag.plan.actions.length).toBeLessThanOrEqual(1);
    expect(String(report.errorInstance)).toContain('m.room.power_levels|: (absent) vs $2-pl-alice');
  });

  it('assertProperty reports the counterexample with describeDag', async () => {
    await expect(assertProperty(checkIdempotence(lastSetWins, { roomVersions: '1' }), { numRuns: 50 })).resolves.toBeUndefined();
    await expect(assertProperty(checkUnconflictedPreserved(() => new Map(), { roomVersions: '11' }), { numRuns: 50, seed: 3 })).rejects.toThrow(/room v11 !room:a\.example \(fake IDs\)/);
  });
});

describe('what is not guaranteed', () => {
  it('resolved power events need not pass auth against the resolved state (e.g. the creator left)', () => {
    // Linear history: alice sets power levels, then leaves. The resolved state keeps her PL event,
    // which does not pass auth against a state where she is no longer joined.
    const plan = { roomVersion: '10', userCount: 2, initialJoinRule: 'public' as const, founders: 0, actions: [{ kind: 'leave' as const, actor: 0, target: 0, branch: 0, arg: 0 }] };
    const dag = buildRoomDag(plan);
    const result = resolveStateSync('10', stateSetsOf(dag), dag.eventsById);
    expect(powerEventsAuthorisedAgainstResult(dag, result)).toContain('$2-pl-alice');
  });
});

describe('hostilePdu and small arbitraries', () => {
  it('parsePdu rejects hostile events with PduFormatError only, and auth never throws', () => {
    const dags = fc.sample(roomDag({ ids: 'real', roomVersions: ['1', '6', '10', '12'], maxActions: 6 }), { numRuns: 8, seed: 5 });
    let rejected = 0;
    let total = 0;
    for (const dag of dags) {
      const e = dag.events[dag.events.length - 1]!;
      fc.assert(fc.property(hostilePdu(e), (hostile) => {
        total++;
        try {
          parsePdu(hostile, dag.rules);
        } catch (err) {
          expect(err).toBeInstanceOf(PduFormatError);
          rejected++;
        }
        const view = toRoomEvent(hostile as never, dag.rules, e.eventId);
        const r = checkAuth(view, lookupOf(dag, dag.stateBefore.get(e.eventId)!), dag.rules);
        expect(typeof r.allowed).toBe('boolean');
        // checkAuth turns a throw into rule 'internal': "never throws" means never that rule.
        if (!r.allowed) expect(r.rule).not.toBe('internal');
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }), { numRuns: 60, seed: 6 });
    }
    expect(rejected / total).toBeGreaterThan(0.3);
  });

  it('small arbitraries respect the room version', () => {
    expect(joinRulesOf(getRoomVersion('1'))).not.toContain('knock');
    expect(joinRulesOf(getRoomVersion('10'))).toContain('knock_restricted');
    fc.assert(fc.property(membershipChange(getRoomVersion('6'), ['@a:x', '@b:y']), (m) => {
      expect(m.membership).not.toBe('knock');
      if (m.membership === 'join') expect(m.target).toBe(m.sender);
    }));
    fc.assert(fc.property(powerLevelsContent(['@a:x']), (pl) => {
      expect(typeof pl['users']).toBe('object');
      for (const v of Object.values(pl)) if (typeof v === 'number') expect(Number.isInteger(v)).toBe(true);
    }));
  });
});
