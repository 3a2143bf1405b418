/**
 * The real page in headless Chromium (Debian's /usr/bin/chromium driven by puppeteer-core; no
 * browser download) against a real library served by the real agent (`alice watch` with
 * serve.enabled): search by tag and by prompt words, `/?q=` links, the asset page's prompt and
 * generation settings, a tag added on the page embedded into the file (read back by Debian's
 * exiftool), a near-duplicate group's keeper and "move the others to the trash" + undo, and the
 * status page while the agent indexes a burst. Writes the screenshots docs/serve.md shows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scene } from '../phash/fixtures.js';
import { tEXt } from '../generation/png-helpers.js';
import {
  FAST_AGENT_SETTINGS,
  killAllAgents,
  mergeSettings,
  readStatusFile,
  spawnAgent,
  startAgent,
  type AgentProcess,
  waitFor,
} from '../helpers/agent.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const IMG_DIR = path.join(REPO_ROOT, 'docs', 'img');

let ws: Workspace;
let lib: string;
let browser: Browser;
let page: Page;
let base: string;
let userData: string;
const hashes: Record<string, string> = {};

const NEON =
  'a cyberpunk city at night, neon signs in the rain\nNegative prompt: blurry, lowres\n' +
  'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890, Size: 768x512, Model: sdxl_base';
const LAKE =
  'a quiet forest lake at dawn, mist\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512';

/** A scene PNG (distinct pixels per seed) carrying A1111 `parameters` text before IEND. */
async function generatedPng(seed: number, parameters: string): Promise<Buffer> {
  const png = await sharp(await scene(seed, 256))
    .png()
    .toBuffer();
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), tEXt('parameters', parameters), png.subarray(iend)]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A small PNG of the visible page for docs/img (palette, 900 px wide). */
async function screenshot(name: string): Promise<void> {
  fs.mkdirSync(IMG_DIR, { recursive: true });
  const shot = await page.screenshot({ type: 'png' });
  await sharp(Buffer.from(shot))
    .resize({ width: 900 })
    .png({ palette: true, quality: 70, compressionLevel: 9 })
    .toFile(path.join(IMG_DIR, name));
}

async function cells(): Promise<string[]> {
  return page.$$eval('#grid .cell', (els) => els.map((e) => e.getAttribute('data-hash') ?? ''));
}

async function gridSettled(): Promise<string[]> {
  // Strings run in the page (the tests compile without DOM types).
  await page.waitForFunction(`document.querySelector('#main')?.getAttribute('data-loaded') !== null`, {
    timeout: 30_000,
  });
  return (await cells()).sort();
}

beforeAll(async () => {
  if (!haveChromium) return;
  ws = makeWorkspace();
  lib = ws.roots[0] ?? '';
  const files: Record<string, Buffer> = {
    'gen/neon.png': await generatedPng(21, NEON),
    'gen/lake.png': await generatedPng(22, LAKE),
    'photos/forest.png': await sharp(await scene(11, 640))
      .png()
      .toBuffer(),
    'photos/forest-small.jpg': await sharp(await scene(11, 640))
      .resize(320)
      .jpeg({ quality: 80 })
      .toBuffer(),
    'photos/city.png': await sharp(await scene(12, 400))
      .png()
      .toBuffer(),
  };
  for (const [rel, bytes] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(lib, rel)), { recursive: true });
    fs.writeFileSync(path.join(lib, rel), bytes);
    hashes[rel] = sha256Of(path.join(lib, rel));
  }
  const port = await freePort();
  ws.writeSettings(mergeSettings(FAST_AGENT_SETTINGS, { serve: { enabled: true, port } }));
  await startAgent(ws, { timeoutMs: 90_000 });
  base = `http://127.0.0.1:${port}`;
  userData = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-chromium-'));
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: userData,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 760 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await killAllAgents();
  if (userData !== undefined) fs.rmSync(userData, { recursive: true, force: true });
  ws?.cleanup();
}, 60_000);

describe.skipIf(!haveChromium)('the page in Chromium', () => {
  it('searches by tag and by prompt words; /?q= opens with that search', async () => {
    await page.goto(`${base}/?q=${encodeURIComponent('#cyberpunk')}`);
    expect(await gridSettled()).toEqual([hashes['gen/neon.png']]);
    expect(await page.$eval('#q', (e) => (e as unknown as { value: string }).value)).toBe('#cyberpunk');
    await page.goto(`${base}/`);
    expect((await gridSettled()).length).toBe(5);
    await screenshot('search.png');
    await page.type('#q', 'forest lake');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(page.url()).toBe(`${base}/?q=forest+lake`);
    expect(await gridSettled()).toEqual([hashes['gen/lake.png']]);
    // Every thumbnail of the page loaded (a real WebP, decoded by the browser).
    await page.goto(`${base}/`);
    await gridSettled();
    await page.waitForFunction(
      `[...document.querySelectorAll('#grid img')].every((i) => i.complete && i.naturalWidth > 0)`,
      { timeout: 30_000 },
    );
  }, 120_000);

  it('the asset page shows the prompt and every generation setting', async () => {
    await page.goto(`${base}/asset/${hashes['gen/neon.png']}`);
    await page.waitForSelector('#prompt');
    expect(await page.$eval('#prompt', (e) => e.textContent)).toContain('a cyberpunk city at night');
    expect(await page.$eval('#negative-prompt', (e) => e.textContent)).toContain('blurry, lowres');
    const gen = await page.$eval('#generation', (e) => e.textContent ?? '');
    for (const v of ['28', 'DPM++ 2M Karras', '6.5', '1234567890', 'sdxl_base']) expect(gen).toContain(v);
    await screenshot('asset.png');
  }, 60_000);

  it('a tag added on the page is embedded into the file', async () => {
    const file = path.join(lib, 'gen/lake.png');
    await page.goto(`${base}/asset/${hashes['gen/lake.png']}`);
    await page.waitForSelector('#tag-input');
    await page.type('#tag-input', 'mood:serene');
    await page.click('#tag-form button[type=submit]');
    await page.waitForSelector('.chip[data-tag="mood:serene"]', { timeout: 60_000 });
    const read = execFileSync('/usr/bin/exiftool', ['-j', '-XMP:all', '-IPTC:Keywords', file], {
      encoding: 'utf8',
    });
    expect(read).toMatch(/serene/);
  }, 90_000);

  it('a near-duplicate group shows its keeper; trash moves exactly the others, undo restores them', async () => {
    const keeper = path.join(lib, 'photos/forest.png');
    const other = path.join(lib, 'photos/forest-small.jpg');
    await page.goto(`${base}/dupes`);
    const group = await page.waitForSelector('.group.near', { timeout: 30_000 });
    expect(await page.$$('.group.near')).toHaveLength(1);
    expect(await group?.evaluate((e) => e.getAttribute('data-keeper'))).toBe(hashes['photos/forest.png']);
    const members = await page.$$eval('.group.near .member', (els) =>
      els.map((e) => ({ hash: e.getAttribute('data-hash'), keeper: e.classList.contains('keeper') })),
    );
    expect(members).toContainEqual({ hash: hashes['photos/forest.png'], keeper: true });
    expect(members).toContainEqual({ hash: hashes['photos/forest-small.jpg'], keeper: false });
    await screenshot('dupes.png');
    const before = fs
      .readdirSync(lib, { recursive: true })
      .map(String)
      .filter((p) => !p.startsWith('.'))
      .sort();
    await page.click('.group.near button.trash');
    await page.waitForSelector('.group.near .trash-result button.undo', { timeout: 60_000 });
    expect(fs.existsSync(other)).toBe(false);
    expect(fs.existsSync(keeper)).toBe(true);
    const trashed = fs.readdirSync(path.join(lib, '.alice-trash'), { recursive: true }).map(String);
    expect(trashed.filter((p) => p.endsWith('forest-small.jpg'))).toHaveLength(1);
    const after = fs
      .readdirSync(lib, { recursive: true })
      .map(String)
      .filter((p) => !p.startsWith('.'));
    expect(before.filter((p) => !after.includes(p))).toEqual(['photos/forest-small.jpg']);
    await page.click('.group.near .trash-result button.undo');
    await waitFor(() => fs.existsSync(other), { timeoutMs: 30_000, what: 'the file back in place' });
    expect(sha256Of(other)).toBe(hashes['photos/forest-small.jpg']);
    await page.waitForSelector('.group.near button.trash', { timeout: 30_000 });
  }, 120_000);

  it('the status page shows the agent indexing a burst', async () => {
    await page.goto(`${base}/status`);
    await page.waitForSelector('#agent-state');
    const indexedBefore = readStatusFile(ws)?.counters.indexed ?? 0;
    const burst = path.join(lib, 'burst');
    fs.mkdirSync(burst);
    for (let i = 0; i < 400; i++)
      await writeImage(path.join(burst, `b${i}.png`), { seed: 1000 + i, size: 16 });
    // The queue (or the counter) moves on the page itself, updated live by its polling.
    const seen = await waitFor(
      async () => {
        const text = await page.$eval('#main', (e) => e.textContent ?? '');
        const pending = /pending_paths\s*(\d+)/.exec(text);
        const indexed = /indexed\s*(\d+)/.exec(text);
        return Number(pending?.[1] ?? 0) > 0 || Number(indexed?.[1] ?? 0) > indexedBefore ? text : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the status page to show the burst' },
    );
    expect(seen).toMatch(/watching|scanning|indexing|degraded/);
    await waitFor(
      async () => {
        const text = await page.$eval('#counters', (e) => e.textContent ?? '');
        return Number(/indexed\s*(\d+)/.exec(text)?.[1] ?? 0) >= indexedBefore + 400;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'all 400 indexed on the page' },
    );
    expect(await page.$eval('#roots', (e) => e.textContent)).toContain(lib);
    // A file the agent cannot index is named on the page with the reason.
    const dangling = path.join(lib, 'gone.png');
    fs.symlinkSync('nowhere.png', dangling);
    try {
      const skipped = await waitFor(
        async () => {
          const text = await page.$eval('#skipped', (e) => e.textContent ?? '');
          return text.includes(dangling) ? text : null;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'the skipped file on the status page' },
      );
      expect(skipped).toContain(`vanished ${dangling}`);
    } finally {
      fs.unlinkSync(dangling);
    }
  }, 200_000);

  it('while the agent builds the index, the status page shows x of y with phase and ETA, and search says so', async () => {
    // A library of 2,000 small images the agent has never indexed: its first build runs with the
    // web page already up, so the page can watch it (it polls once a second: the build must last
    // several seconds for the page to draw x of y more than once).
    const N = 2000;
    const ws2 = makeWorkspace();
    const tabs: Page[] = [];
    let agent: AgentProcess | undefined;
    try {
      const lib2 = ws2.roots[0] ?? '';
      for (let i = 0; i < N; i++)
        await writeImage(path.join(lib2, 'build', `f${i}.png`), { seed: 5000 + i, size: 16 });
      const port2 = await freePort();
      ws2.writeSettings(mergeSettings(FAST_AGENT_SETTINGS, { serve: { enabled: true, port: port2 } }));
      const base2 = `http://127.0.0.1:${port2}`;
      const started = spawnAgent(ws2);
      agent = started;
      await waitFor(
        async () => {
          if (started.child.exitCode !== null) throw new Error(`agent exited early\n${started.output()}`);
          return fetch(`${base2}/status`)
            .then((r) => r.ok)
            .catch(() => false);
        },
        { timeoutMs: 60_000, intervalMs: 50, what: 'the agent to serve its page' },
      );
      const [status, search] = [await browser.newPage(), await browser.newPage()];
      tabs.push(status, search);
      // The search page, asked at once: the build has only just begun.
      const searched = search
        .goto(`${base2}/`)
        .then(() =>
          search.waitForFunction(
            `document.querySelector('#main')?.getAttribute('data-loaded') !== null || document.querySelector('#main .error') !== null`,
            { timeout: 60_000 },
          ),
        )
        .then(() => search.$eval('#main', (e) => e.textContent ?? ''));
      await status.goto(`${base2}/status`);
      // Sample the drawn progress (text read from the DOM) until the agent is watching.
      const samples: { phase: string; done: number; total: number; eta: boolean }[] = [];
      await waitFor(
        async () => {
          const text = await status.$eval('#progress', (e) => e.textContent ?? '').catch(() => null);
          const m = text === null ? null : /^(\w[\w ]*): (\d+) of (\d+)(, about \d+ s left)?/.exec(text);
          if (m !== null)
            samples.push({
              phase: m[1] ?? '',
              done: Number(m[2]),
              total: Number(m[3]),
              eta: m[4] !== undefined,
            });
          const state = await status
            .$eval('#agent-state', (e) => e.getAttribute('data-state'))
            .catch(() => null);
          return text === null && state === 'watching';
        },
        { timeoutMs: 150_000, intervalMs: 150, what: 'the build to end on the status page' },
      );
      // Every x of y drawn counts the files being processed, x moved, and an ETA was shown.
      expect(samples.length).toBeGreaterThanOrEqual(2);
      expect(new Set(samples.map((s) => s.total))).toEqual(new Set([N]));
      expect(samples.every((s) => ['hashing', 'indexing'].includes(s.phase))).toBe(true);
      expect(new Set(samples.map((s) => `${s.phase} ${s.done}`)).size).toBeGreaterThanOrEqual(2);
      expect(samples.some((s) => s.eta)).toBe(true);
      // The search page answered during the build and said the index is incomplete.
      const seenText = await searched;
      expect(seenText).not.toMatch(/error/i);
      const notice = await search.$eval('#building-notice', (e) => ({
        hidden: e.hasAttribute('hidden'),
        text: e.textContent ?? '',
      }));
      expect(notice.hidden).toBe(false);
      expect(notice.text).toMatch(
        /^index is being built(: \d+ of \d+ files \((hashing|indexing)\))?, results may be incomplete$/,
      );
      // Built: a new search has no notice and finds all N.
      await search.goto(`${base2}/`);
      await search.waitForFunction(`document.querySelector('#main')?.getAttribute('data-loaded') !== null`, {
        timeout: 30_000,
      });
      expect(await search.$eval('.count', (e) => e.textContent)).toBe(`${N} assets`);
      expect(await search.$eval('#building-notice', (e) => e.hasAttribute('hidden'))).toBe(true);
      await started.stop('SIGTERM', 30_000);
    } finally {
      for (const t of tabs) await t.close().catch(() => undefined);
      await agent?.stop('SIGKILL', 5000).catch(() => undefined);
      ws2.cleanup();
    }
  }, 300_000);
});
