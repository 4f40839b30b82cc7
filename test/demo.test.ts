// The browser demo in real Chromium (Debian's package, driven by playwright-core): the page
// trains through navigator.gpu, the losses fall, no console errors, and a screenshot taken
// mid-training is saved to test-artifacts/demo.png.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import * as assert from 'uvu/assert';
import { repoRoot, suite } from './harness.js';

const t = suite('browser demo in Chromium (WebGPU)');

const demoDir = join(repoRoot(), 'build/demo');
const artifacts = join(repoRoot(), 'test-artifacts');
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface DemoState {
  adapter: string;
  steps: number;
  running: boolean;
  segmentation: number[];
  foreground: number[];
  errors: string[];
}

const test = existsSync(chromium) ? t : t.skip;
if (!existsSync(chromium))
  console.log(`  (browser demo test skipped: no Chromium at ${chromium}; .ci/run installs Debian's chromium)`);

test('the demo trains in Chromium: losses fall, no console errors, a screenshot mid-training', async () => {
  const { chromium: browserType } = await import('playwright-core');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\.\.+/g, '');
    try {
      const body = readFileSync(join(demoDir, path === '/' ? 'index.html' : path));
      res.writeHead(200, { 'content-type': extname(path) === '.js' ? 'text/javascript' : 'text/html' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), 'voxgrad-chromium-'));
  const context = await browserType.launchPersistentContext(profile, {
    executablePath: chromium,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const consoleErrors: string[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    const state = (): Promise<DemoState> =>
      page.evaluate(() => (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo);
    await page.waitForFunction(
      () => {
        const s = (globalThis as unknown as { voxgradDemo?: DemoState }).voxgradDemo;
        return !!s && (s.adapter !== '' || s.errors.length > 0);
      },
      undefined,
      { timeout: 60_000 },
    );
    assert.equal((await state()).errors, [], 'the page found a WebGPU device');
    await page.fill('#steps', '16');
    await page.click('#start');
    await page.waitForFunction(
      () => (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo.steps >= 8,
      undefined,
      { timeout: 180_000 },
    );
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'demo.png') });
    await page.waitForFunction(
      () => {
        const s = (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo;
        return s.steps >= 16 && !s.running;
      },
      undefined,
      { timeout: 180_000 },
    );
    const s = await state();
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    const first = mean(s.segmentation.slice(0, 3)) + mean(s.foreground.slice(0, 3));
    const last = mean(s.segmentation.slice(-3)) + mean(s.foreground.slice(-3));
    assert.ok(last < first, `losses fall: ${first.toFixed(4)} -> ${last.toFixed(4)} (${s.adapter})`);
    assert.equal(s.errors, []);
    assert.equal(consoleErrors, [], 'no console errors');
    assert.ok(existsSync(join(artifacts, 'demo.png')));
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

t.run();
