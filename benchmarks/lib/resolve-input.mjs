// The event views and state maps of a `roomgraph resolve` input document, built with the packages
// of a checkout ROOT (for before/after comparisons): ROOT's CLI `resolveInputOf` where it has one,
// else what the CLI did before that function existed (views by ID, one key string per event
// shared by the sets).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `(input) => { events, sets }` for the checkout `root` (`ev`: its `@roomgraph/events`; `rules`: the input's room version). */
export async function resolveInputBuilder(root, ev, rules) {
  const cliFile = join(root, 'packages/cli/dist/commands/resolve.js');
  const cli = existsSync(cliFile) ? await import(pathToFileURL(cliFile).href) : {};
  if (cli.resolveInputOf !== undefined) return (input) => cli.resolveInputOf(input);
  return (input) => {
    const events = new Map();
    for (const j of input.events) { const e = ev.toRoomEvent(j, rules); events.set(e.eventId, e); }
    const keyOf = new Map();
    const sets = input.state_sets.map((list) => {
      const m = new Map();
      for (const id of list) {
        let k = keyOf.get(id);
        if (k === undefined) { const e = events.get(id); keyOf.set(id, (k = ev.stateKeyOf(e.type, e.stateKey))); }
        m.set(k, id);
      }
      return m;
    });
    return { events, sets };
  };
}
