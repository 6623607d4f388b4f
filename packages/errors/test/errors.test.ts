import { describe, expect, it } from 'vitest';
import { RoomgraphError, isRoomgraphError } from '@roomgraph/errors';

class Sub extends RoomgraphError<'A' | 'B'> {
  override readonly name: string = 'Sub';
}

describe('RoomgraphError', () => {
  it('has a name, a stable code, a message and a cause', () => {
    const cause = new Error('inner');
    const e = new Sub('A', 'outer', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(RoomgraphError);
    expect([e.name, e.code, e.message, e.cause]).toEqual(['Sub', 'A', 'outer', cause]);
    expect(String(e)).toBe('Sub: outer');
    expect(isRoomgraphError(e)).toBe(true);
    expect(isRoomgraphError(e, 'A')).toBe(true);
    expect(isRoomgraphError(e, 'B')).toBe(false);
    expect(isRoomgraphError(new Error('x'))).toBe(false);
  });
  it('has no cause unless given one', () => {
    expect('cause' in new Sub('B', 'm')).toBe(false);
    expect(new Sub('B', 'm', { cause: undefined }).cause).toBeUndefined();
  });
});
