// The SVG and the HTML page of `roomgraph graph`, opened in a real browser (Debian's Chromium,
// driven by playwright-core): they render, the page loads nothing from the network, pan, zoom and
// click-for-JSON work, hostile strings do not run, and screenshots are written for a person to
// look at (test/.screenshots/).
//
// Chromium is found at $ROOMGRAPH_CHROMIUM or /usr/bin/chromium. When it is missing the test is
// skipped — with the reason in its name and in the run's summary ("N skipped") — unless
// ROOMGRAPH_REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium), where it fails instead.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileStore, referenceStore, run, workDir } from './graph-helpers.js';

const CHROMIUM = process.env['ROOMGRAPH_CHROMIUM'] ?? '/usr/bin/chromium';
const REQUIRED = process.env['ROOMGRAPH_REQUIRE_BROWSER'] === '1';
const available = existsSync(CHROMIUM);
const SHOTS = fileURLToPath(new URL('../../../test/.screenshots/', import.meta.url));
const reason = `Chromium not found at ${CHROMIUM} (apt-get install -y chromium; set ROOMGRAPH_REQUIRE_BROWSER=1 to make this mandatory)`;
if (!available && !REQUIRED) console.warn(`graph-browser.test.ts SKIPPED: ${reason}`);

const work = workDir('graph-browser');
let ctx: BrowserContext | undefined;
let files: { svg: string; html: string; hostileHtml: string; hostileSvg: string; extremity: string; rejected: string; hostile: string };
const external: string[] = [];

beforeAll(async () => {
  if (!available) return;
  const ref = await referenceStore(work);
  const h = await hostileStore(work);
  files = {
    svg: join(work, 'room.svg'),
    html: join(work, 'room.html'),
    hostileSvg: join(work, 'hostile.svg'),
    hostileHtml: join(work, 'hostile.html'),
    extremity: ref.room.expected.forward_extremities[0]!,
    rejected: ref.room.expected.rejected[0]!,
    hostile: h.hostileIds[0]!,
  };
  for (const [store, format, out] of [[ref.dir, 'svg', files.svg], [ref.dir, 'html', files.html], [h.dir, 'svg', files.hostileSvg], [h.dir, 'html', files.hostileHtml]] as const) {
    const r = await run(['graph', '--store', store, '--format', format, '--out', out]);
    if (r.code !== 0) throw new Error(r.err);
  }
  mkdirSync(SHOTS, { recursive: true });
  ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'rg-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  // Anything but the file itself is recorded and refused: the page must be self-contained.
  await ctx.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    external.push(url);
    return route.abort();
  });
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  rmSync(work, { recursive: true, force: true });
});

async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx!.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(pathToFileURL(file).href);
  return { page, errors };
}

async function shot(page: Page, name: string): Promise<void> {
  const path = join(SHOTS, name);
  await page.screenshot({ path });
  // A rendered picture of boxes and text, not a blank page.
  expect(statSync(path).size).toBeGreaterThan(20_000);
}

describe.skipIf(!available && !REQUIRED)('roomgraph graph in Chromium', () => {
  it('Chromium is installed (required in CI)', () => {
    expect(available, reason).toBe(true);
  });

  it('the SVG renders every event', async () => {
    const { page, errors } = await open(files.svg);
    expect(await page.locator('g.node.ev').count()).toBeGreaterThan(200);
    expect(await page.locator('g.node.ev.rejected').count()).toBeGreaterThan(0);
    const box = await page.locator('svg').boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    await shot(page, 'graph-svg.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the HTML page: self-contained, pan and zoom, the event JSON on click', async () => {
    const { page, errors } = await open(files.html);
    await shot(page, 'graph-html.png');
    const transform = async (): Promise<string> => (await page.locator('#canvas').getAttribute('style')) ?? '';
    // Pan: drag the background.
    const before = await transform();
    await page.mouse.move(200, 600);
    await page.mouse.down();
    await page.mouse.move(320, 450, { steps: 5 });
    await page.mouse.up();
    const panned = await transform();
    expect(panned).not.toBe(before);
    // Zoom: the wheel changes the scale.
    await page.mouse.move(700, 500);
    await page.mouse.wheel(0, -400);
    const zoomed = await transform();
    expect(/scale\(([\d.]+)\)/.exec(zoomed)![1]).not.toBe(/scale\(([\d.]+)\)/.exec(panned)![1]);
    // Fit, then a real click on the first event (the create event, at the top).
    await page.click('#fit');
    await page.click('#one');
    const create = await page.locator('g.node.ev').first().boundingBox();
    await page.mouse.click(create!.x + create!.width / 2, create!.y + create!.height / 2);
    await page.waitForSelector('#panel.open');
    const json = JSON.parse(await page.locator('#panel pre').textContent() ?? '') as { type: string };
    expect(json.type).toBe('m.room.create');
    // The clicked event is outlined (its shape's stroke changes).
    const stroke = await page.locator('g.node.ev.selected polygon').first().evaluate((e) => (globalThis as unknown as { getComputedStyle(x: unknown): { stroke: string } }).getComputedStyle(e).stroke);
    expect(stroke).toBe('rgb(216, 27, 96)');
    // Find a rejected event by its ID prefix: the panel shows its status, rule and reason.
    await page.fill('#find', files.rejected.slice(0, 12));
    await page.press('#find', 'Enter');
    await expect.poll(() => page.locator('#panel h2').textContent()).toBe(files.rejected);
    const panel = await page.locator('#panel').textContent();
    expect(panel).toContain('rejected');
    expect(panel).toMatch(/rule: [a-z_.]+/);
    expect(panel).toMatch(/reason: /);
    await shot(page, 'graph-html-rejected.png');
    await page.fill('#find', files.extremity.slice(0, 12));
    await page.press('#find', 'Enter');
    await expect.poll(() => page.locator('#panel').textContent()).toContain('forward extremity');
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
  });

  it('hostile strings render as text and run nothing', async () => {
    for (const f of [files.hostileSvg, files.hostileHtml]) {
      const { page, errors } = await open(f);
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator(':root').textContent()).toContain('</script><img');
      if (f === files.hostileHtml) {
        // Its JSON in the panel is text too.
        await page.evaluate(`(() => { const r = window.roomgraph; for (const k of Object.keys(r.data)) if (r.data[k].id === ${JSON.stringify(files.hostile)}) r.show(k); })()`);
        expect(await page.locator('#panel pre').textContent()).toContain('</script><img');
        expect(await page.locator('img').count()).toBe(0);
        await shot(page, 'graph-html-hostile.png');
      }
      expect(errors).toEqual([]);
      await page.close();
    }
    expect(external).toEqual([]);
  });
});

// Visible in the run's summary as a skipped test whose name gives the reason.
if (!available && !REQUIRED) it.skip(`graph in Chromium: SKIPPED — ${reason}`, () => undefined);
