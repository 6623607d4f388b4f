// State entry keys: stateKeyOf's encoding (injective, split back by splitStateKey; flatStateKeyOf
// equal to it), stateKeyOfEvent's value and shareStateKey's checks (that the string returned is
// the registered object is not observable from JavaScript; benchmarks/issue-11.md has its effect).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getRoomVersion } from '@roomgraph/room-versions';
import { flatStateKeyOf, shareStateKey, splitStateKey, stateKeyOf, stateKeyOfEvent, toRoomEvent } from '../src/view.js';

const rules = getRoomVersion('10');
const member = (user: string) =>
  toRoomEvent({ event_id: `$m${user}`, type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' }, auth_events: [], prev_events: [] }, rules);

describe('state keys', () => {
  it('stateKeyOf (and flatStateKeyOf, equal to it) is split back into the same pair, and distinct pairs get distinct keys', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (t1, k1, t2, k2) => {
        expect(splitStateKey(stateKeyOf(t1, k1))).toEqual([t1, k1]);
        expect(flatStateKeyOf(t1, k1)).toBe(stateKeyOf(t1, k1));
        expect(stateKeyOf(t1, k1) === stateKeyOf(t2, k2)).toBe(t1 === t2 && k1 === k2);
      }),
      { numRuns: 2000 },
    );
  });

  it('stateKeyOfEvent is the key of the event\'s own pair, every time it is asked', () => {
    const a = member('@a:x');
    const b = member('@b:x');
    const ka = stateKeyOfEvent(a);
    expect(ka).toBe(stateKeyOf('m.room.member', '@a:x'));
    expect(stateKeyOfEvent(b)).toBe(stateKeyOf('m.room.member', '@b:x'));
    expect(stateKeyOfEvent(a)).toBe(ka);
    const again = member('@a:x'); // another view of an equal event
    expect(stateKeyOfEvent(again)).toBe(ka);
  });

  it('stateKeyOfEvent of an event without a state key is the key of (type, \'\')', () => {
    const msg = toRoomEvent({ event_id: '$msg', type: 'm.room.message', sender: '@a:x', content: {}, auth_events: [], prev_events: [] }, rules);
    expect(stateKeyOfEvent(msg)).toBe(stateKeyOf('m.room.message', ''));
  });

  it('shareStateKey takes only the event\'s own key, and only while it has none', () => {
    const a = member('@c:x');
    expect(shareStateKey(a, stateKeyOf('m.room.member', '@d:x'))).toBe(false); // another pair's key
    expect(shareStateKey(a, stateKeyOf('m.room.topic', '@c:x'))).toBe(false);
    expect(stateKeyOfEvent(a)).toBe(stateKeyOf('m.room.member', '@c:x')); // unaffected
    const b = member('@e:x');
    const user = '@e:x';
    const key = `13:m.room.member${user}`; // built apart from stateKeyOf, equal content
    expect(shareStateKey(b, key)).toBe(true);
    expect(stateKeyOfEvent(b)).toBe(key);
    expect(shareStateKey(b, stateKeyOf('m.room.member', '@e:x'))).toBe(true); // equal to the one it has
    expect(shareStateKey(b, stateKeyOf('m.room.member', '@f:x'))).toBe(false);
  });
});
