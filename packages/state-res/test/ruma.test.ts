import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { JsonObject } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';
import { resolveStateSync } from '@roomgraph/state-res';
import { eventsOf, nested, readJson, resolveDag, rulesFromCreate, fixtures, stateOf } from './helpers.js';

const dir = 'ruma-state-res/';

function expected(test: string): Record<string, Record<string, string>> {
  const text = readFileSync(new URL(`${dir}snapshots/${test}@resolved_state.snap`, fixtures), 'utf8');
  const lines = text.split('\n');
  const second = lines.indexOf('---', 1);
  const entries = JSON.parse(lines.slice(second + 1).join('\n')) as Array<{ type: string; state_key: string; event_id: string }>;
  const out: Record<string, Record<string, string>> = {};
  for (const e of entries) (out[e.type] ??= {})[e.state_key] = e.event_id;
  return out;
}

const batches: Record<string, string[]> = {
  minimal_private_chat: ['bootstrap-private-chat'],
  minimal_public_chat: ['bootstrap-public-chat'],
  origin_server_ts_tiebreak: ['bootstrap-private-chat', 'origin-server-ts-tiebreak'],
  ban_vs_power_levels: ['bootstrap-public-chat', 'ban-vs-power-levels-alice', 'ban-vs-power-levels-bob'],
  topic_vs_power_levels: ['bootstrap-public-chat', 'topic-vs-power-levels-alice', 'topic-vs-power-levels-bob'],
  power_levels_admin_vs_mod: ['bootstrap-public-chat', 'power-levels-admin-vs-mod-alice', 'power-levels-admin-vs-mod-bob'],
  topic_vs_ban: ['bootstrap-public-chat', 'topic-vs-ban-common', 'topic-vs-ban-alice', 'topic-vs-ban-bob'],
  join_rules_vs_join: ['bootstrap-public-chat', 'join-rules-vs-join-common', 'join-rules-vs-join-alice', 'join-rules-vs-join-ella'],
  concurrent_joins: ['bootstrap-public-chat', 'concurrent-joins-charlie', 'concurrent-joins-ella'],
};

describe('ruma-state-res batch fixtures', () => {
  for (const [test, files] of Object.entries(batches)) {
    it(test, () => {
      const jsons = files.flatMap((f) => readJson<JsonObject[]>(`${dir}fixtures/${f}.json`));
      const rules = rulesFromCreate(jsons);
      const events = eventsOf(jsons, rules);
      const resolved = resolveDag(rules, events);
      expect(nested(resolved, events)).toEqual(expected(test));
    });
  }
});

const maps: Array<[string, string, string, string, string]> = [
  ['msc4297_problem_a_state_res_v2_0', 'MSC4297-problem-A', 'pdus-v11', 'state-bob', 'state-charlie'],
  ['msc4297_problem_a_state_res_v2_1', 'MSC4297-problem-A', 'pdus-v12', 'state-bob', 'state-charlie'],
  ['msc4297_problem_b_state_res_v2_0', 'MSC4297-problem-B', 'pdus-v11', 'state-eve', 'state-zara'],
  ['msc4297_problem_b_state_res_v2_1', 'MSC4297-problem-B', 'pdus-v12', 'state-eve', 'state-zara'],
];

describe('ruma-state-res MSC4297 state-map fixtures', () => {
  for (const [test, folder, pdus, a, b] of maps) {
    for (const reversed of [false, true]) {
      it(`${test}${reversed ? ' (sets reversed)' : ''}`, () => {
        const jsons = readJson<JsonObject[]>(`${dir}fixtures/${folder}/${pdus}.json`);
        const rules = getRoomVersion(pdus === 'pdus-v12' ? '12' : '11');
        const events = eventsOf(jsons, rules);
        const sets = [a, b].map((f) => stateOf(readJson<string[]>(`${dir}fixtures/${folder}/${f}.json`), events));
        if (reversed) sets.reverse();
        const resolved = resolveStateSync(rules, sets, events);
        expect(nested(resolved, events)).toEqual(expected(test));
      });
    }
  }
});
