import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StoreError } from '@roomgraph/store';
import { createLevelStore } from '@roomgraph/store-level';

const lockedBy = (e: unknown): boolean => e instanceof StoreError && e.code === 'STORE_LOCKED' && /locked by another process/.test(e.message) && e.cause !== undefined;

describe('a LevelDB store open elsewhere', () => {
  it('a second store object over the same directory gets STORE_LOCKED, and a new one opens once the first is closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-lock-'));
    try {
      const a = createLevelStore(dir);
      await a.open();
      const b = createLevelStore(dir);
      await expect(b.open()).rejects.toSatisfy(lockedBy);
      await a.close();
      const c = createLevelStore(dir);
      await c.open();
      expect(c.status).toBe('open');
      await c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('another process holding the directory: STORE_LOCKED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-lock-'));
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    // The child opens the store, says so, and holds it until its stdin closes (a latch, no sleeps).
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { createLevelStore } = await import(${JSON.stringify(dist)});
      const s = createLevelStore(${JSON.stringify(dir)}); await s.open();
      process.stdout.write('open\\n');
      process.stdin.on('end', async () => { await s.close(); process.exit(0); }); process.stdin.resume();
    `], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('open')) resolve(); });
        child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      await expect(createLevelStore(dir).open()).rejects.toSatisfy(lockedBy);
    } finally {
      child.stdin.end();
      await new Promise((r) => child.on('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
