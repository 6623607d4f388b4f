// The command line when its reader closes stdout early (`roomgraph gen-room … | head -1`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/roomgraph.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'roomgraph-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a reader that closes stdout early', () => {
  it('ends the command quietly: exit 0, no stack trace', async () => {
    // Several MB of PDUs: far more than the pipe holds, so writes go on after the reader left.
    const child = spawn(process.execPath, [BIN, 'gen-room', '--members', '200', '--events', '20000', '--keys', join(dir, 'KEYS.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (c: Buffer) => resolve(c.toString())));
    child.stdout.destroy(); // the reader goes away after the first chunk
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(first.startsWith('{')).toBe(true);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(code).toBe(0);
  }, 60_000);
});
