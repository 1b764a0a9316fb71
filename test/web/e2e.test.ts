/**
 * End to end: the browser app built with Vite's JS API into a temp folder, served by `vite preview` with COOP/COEP
 * on a free port, driven in Debian's chromium by playwright-core. One page goes through the whole story: it loads
 * cross-origin isolated without console errors, trains the SNN and the CNN for a few iterations on a small subset,
 * draws the report's charts and the spike raster (checked on screenshots), classifies a drawn digit, and exports a
 * results.json that experiment.validateResults accepts, which the page can open again.
 *
 * Skipped (with a message) where /usr/bin/chromium is missing: `apt-get install chromium`.
 * SPIKETS_WEB_BENCH=1 adds a measurement of the in-browser SNN iteration time (not a test: it prints numbers).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experiment } from 'spikets';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const BENCH = process.env.SPIKETS_WEB_BENCH === '1';
if (!HAVE_CHROMIUM) console.warn(`test/web/e2e.test.ts skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const CONFIG_FILE = fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Share of a screenshot's pixels that clearly differ from its top-left (background) pixel, decoded by the browser
 * itself. "Clearly": a summed RGB difference over 100, so light grid lines (#e4e4e4 on white) do not count as ink.
 */
async function inkShare(page: Page, target: Locator): Promise<number> {
  const png = await target.screenshot();
  return page.evaluate(async (b64: string) => {
    const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
    const bmp = await createImageBitmap(blob);
    const g = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d')!;
    g.drawImage(bmp, 0, 0);
    const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i]! - d[0]!) + Math.abs(d[i + 1]! - d[1]!) + Math.abs(d[i + 2]! - d[2]!) > 100) n++;
    }
    return n / (d.length / 4);
  }, png.toString('base64'));
}

async function setFields(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(fields)) {
    const el = page.locator(`#controls [name=${name}]`);
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
    else await el.fill(value);
  }
}

async function exportResults(page: Page): Promise<unknown> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
  expect(download.suggestedFilename()).toBe('results.json');
  return JSON.parse(readFileSync(await download.path(), 'utf8'));
}

describe.skipIf(!HAVE_CHROMIUM)('web app (chromium)', () => {
  let dir = '';
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const { build, preview } = await import('vite');
    const { chromium } = await import('playwright-core');
    dir = mkdtempSync(join(tmpdir(), 'spikets-web-'));
    await build({ configFile: CONFIG_FILE, logLevel: 'error', build: { outDir: dir, emptyOutDir: true } });
    const port = await freePort();
    server = await preview({
      configFile: CONFIG_FILE,
      logLevel: 'error',
      build: { outDir: dir },
      preview: { port, strictPort: true, host: '127.0.0.1', open: false },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads MNIST from its own origin, cross-origin isolated, and names its backend', async () => {
    await page.waitForSelector('#status[data-state=ready]', { timeout: 30_000 });
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.getByTestId('status').textContent()).toContain('60000 training and 10000 test images');
    const backend = page.getByTestId('backend');
    expect(['wasm', 'reference']).toContain(await backend.getAttribute('data-backend'));
    expect(Number(await backend.getAttribute('data-threads'))).toBeGreaterThanOrEqual(1);
    expect(consoleErrors).toEqual([]);
  });

  it('trains the SNN and the CNN a few iterations and draws the report charts', async () => {
    await setFields(page, {
      models: 'both', numSteps: '4', batchSize: '16', trainLimit: '64', testLimit: '32',
      epochsSnn: '1', epochsCnn: '1', evalEvery: '2', threads: '1',
    });
    await page.locator('#start').click();
    await page.waitForSelector('#status[data-state=complete]', { timeout: 45_000 });
    await page.waitForSelector('#report[data-drawn=complete]', { timeout: 15_000 });
    const charts = page.locator('figure.chart[data-rendered=true]');
    const ids = await charts.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.chart));
    for (const id of ['loss', 'accuracy-iterations', 'accuracy-time', 'iteration-time', 'confusion-snn', 'confusion-cnn']) expect(ids).toContain(id);
    for (const id of ['loss', 'accuracy-iterations', 'iteration-time']) {
      expect(await inkShare(page, page.locator(`figure.chart[data-chart=${id}] canvas`))).toBeGreaterThan(0.01);
    }
    expect(await page.locator('#table-time-to-accuracy').count()).toBe(1);
    expect(consoleErrors).toEqual([]);
  });

  it('replays the trained SNN on a test digit: raster per layer, membrane and output counts', async () => {
    const network = page.getByTestId('network');
    await page.waitForSelector('[data-testid=network][data-ready=true]', { timeout: 10_000 });
    await expect.poll(() => network.locator('[data-role=clock]').textContent(), { timeout: 10_000 }).toBe('step 4 / 4');
    const rasters = network.locator('[data-role=rasters] canvas');
    expect(await rasters.count()).toBe(3);
    expect(await inkShare(page, rasters.first())).toBeGreaterThan(0.005);
    expect(await inkShare(page, network.locator('[data-role=membrane] canvas'))).toBeGreaterThan(0.01);
    expect(await inkShare(page, page.locator('#digit'))).toBeGreaterThan(0.05);
  });

  it('classifies a drawn digit with both trained models', async () => {
    await page.getByTestId('pad').scrollIntoViewIfNeeded();
    const box = (await page.getByTestId('pad').boundingBox())!;
    await page.mouse.move(box.x + 90, box.y + 60);
    await page.mouse.down();
    for (const [x, y] of [[190, 60], [150, 140], [120, 230]] as const) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
    await page.mouse.up();
    const snn = page.getByTestId('snn-prediction');
    const cnn = page.getByTestId('cnn-prediction');
    await expect.poll(() => snn.getAttribute('data-prediction'), { timeout: 10_000 }).toMatch(/^\d$/);
    await expect.poll(() => cnn.getAttribute('data-prediction'), { timeout: 10_000 }).toMatch(/^\d$/);
    expect(await inkShare(page, page.locator('#pad-preview'))).toBeGreaterThan(0.03);
  });

  it('exports a results.json that validates, and opens it again as a report', async () => {
    const json = await exportResults(page);
    const results = experiment.validateResults(json);
    expect(results.models.snn?.status).toBe('complete');
    expect(results.models.cnn?.status).toBe('complete');
    expect(results.models.snn?.iterations).toHaveLength(4);
    expect(results.models.cnn?.iterations).toHaveLength(4);
    expect(results.config.subset).toEqual({ train: 64, test: 32 });
    expect(results.models.snn?.sample?.raster).toHaveLength(3);
    expect(results.environment.userAgent).toContain('Chrome');

    const file = join(dir, 'exported-results.json');
    await import('node:fs').then((fs) => fs.writeFileSync(file, JSON.stringify(json)));
    await page.getByTestId('open').setInputFiles(file);
    await page.waitForSelector('#source[data-file="exported-results.json"]', { timeout: 10_000 });
    // A file's report includes the SNN sample charts (the live page animates them instead).
    await page.waitForSelector('figure.chart[data-chart=raster][data-rendered=true]', { timeout: 15_000 });
    expect(consoleErrors).toEqual([]);
  });

  it.runIf(BENCH)('measures the SNN iteration time (T=50, B=128): 1 thread and all threads', async () => {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    for (const threads of [1, cores]) {
      await setFields(page, {
        models: 'snn', numSteps: '50', batchSize: '128', trainLimit: '640', testLimit: '128',
        epochsSnn: '1', evalEvery: '1000', threads: String(threads),
      });
      await page.locator('#start').click();
      await page.waitForSelector('#status[data-state=complete]', { timeout: 600_000 });
      const r = experiment.validateResults(await exportResults(page));
      const times = r.models.snn!.iterations.map((it) => it.timeS * 1000);
      const steady = times.slice(1);
      const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
      console.log(`SNN T=50 B=128 in chromium: backend ${r.environment.backend}, ${r.environment.threads} thread(s): ` +
        `first ${times[0]!.toFixed(0)} ms, then mean ${mean.toFixed(0)} ms over ${steady.length} iterations`);
    }
  }, 1_200_000);
});
