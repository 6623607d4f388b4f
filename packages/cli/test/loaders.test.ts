import { describe, expect, it } from 'vitest';
import { commands, main } from '@roomgraph/cli';
import { loadCommand, loadableCommandNames } from '../src/commands/loaders.js';

describe('commands/loaders.ts (roomgraph <name> imports only that command)', () => {
  it('names exactly the commands of the command table', () => {
    expect([...loadableCommandNames].sort()).toEqual(commands.map((c) => c.name).sort());
  });

  it.each(commands.map((c) => c.name))('loads %s as the table\'s command', async (name) => {
    const c = await loadCommand(name);
    expect(c?.name).toBe(name);
    expect(c?.summary).toBe(commands.find((x) => x.name === name)?.summary);
  });

  it('knows no other name (inherited properties included)', async () => {
    expect(await loadCommand('nope')).toBeUndefined();
    expect(await loadCommand('__proto__')).toBeUndefined();
    expect(await loadCommand('toString')).toBeUndefined();
  });

  it('main still reports an unknown command', async () => {
    let err = '';
    const code = await main(['toString'], { stdin: '', stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } });
    expect(code).toBe(2);
    expect(JSON.parse(err).error.code).toBe('UNKNOWN_COMMAND');
  });
});
