/**
 * `alice understand` end to end through the built CLI against loopback stub servers (one per
 * protocol) written here: the request carries the model, the image and the key from api_key_env;
 * the sidecar gets tags, description and usage × price; the cache, --force, the budget, retries on
 * 429 with Retry-After, unusable answers, search by an understood tag, and the key never stored.
 * The tests in each describe build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sidecar } from '../../src/domain/sidecar.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import type { UnderstandReport } from '../../src/services/tagging/understand.service.js';
import { makeWorkspace, sha256sum, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson } from '../helpers/library.js';
import { runAlice } from '../helpers/cli.js';
import { aliceJson, CLI_TIMEOUT_MS, SLOW } from './helpers.js';
import { startVisionStub, type VisionStub } from './vision-stub.js';

vi.setConfig({ testTimeout: SLOW, hookTimeout: SLOW });

const KEY = 'sk-test-Zq8vN3kP0wLr5tYh2';
const KEY_ENV = 'ALICE_TEST_VISION_KEY_X';
const ANSWER = {
  tags: {
    style: ['Watercolor'],
    mood: ['serene', 'calm'],
    subject: ['lighthouse'],
    color: ['teal'],
    weird: ['x'],
  },
  description: 'A lighthouse on a calm teal sea, painted in watercolor.',
};
const FENCED = `Sure! Here is the JSON you asked for:\n\`\`\`json\n${JSON.stringify(ANSWER, null, 2)}\n\`\`\`\nHope it helps.`;

function understandingSettings(
  stub: VisionStub,
  provider: 'openai' | 'anthropic',
  extra: Record<string, unknown> = {},
) {
  return {
    understanding: {
      enabled: false,
      provider,
      base_url: stub.baseUrl,
      model: provider === 'openai' ? 'gpt-4o-mini' : 'claude-3-5-haiku-latest',
      api_key_env: KEY_ENV,
      price_per_mtok: { input: 2.5, output: 10 },
      budget_usd: 5,
      categories: ['style', 'mood', 'subject', 'color', 'composition'],
      concurrency: 2,
      ...extra,
    },
  };
}

/** Every file below `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const visit = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) visit(path.join(p, n));
    else if (st.isFile() && fs.readFileSync(p).includes(needle)) out.push(p);
  };
  visit(dir);
  return out;
}

async function understand(
  ws: Workspace,
  env: Record<string, string>,
  args: string[],
  code = 0,
): Promise<UnderstandReport> {
  const r = await runAlice(['--json', '--no-progress', 'understand', ...args], {
    env: { ...ws.env, ...env },
    cwd: ws.dir,
    timeoutMs: CLI_TIMEOUT_MS,
  });
  if (r.code !== code)
    throw new Error(`alice understand exited ${r.code}, not ${code}\n${r.stdout}\n${r.stderr}`);
  return r.json<UnderstandReport>();
}

describe('alice understand (OpenAI-compatible chat completions)', () => {
  let ws: Workspace;
  let stub: VisionStub;
  let lib: string;
  const env = { [KEY_ENV]: KEY };
  const file = (n: string): string => path.join(lib, n);
  const hashOf: Record<string, string> = {};

  beforeAll(async () => {
    stub = await startVisionStub('openai', { kind: 'answer', text: FENCED, input: 1000, output: 200 });
    ws = makeWorkspace();
    lib = ws.roots[0] as string;
    ws.writeSettings(understandingSettings(stub, 'openai'));
    for (const [n, seed] of [
      ['a.png', 21],
      ['b.png', 22],
      ['c.jpg', 23],
    ] as const) {
      await writeImage(file(n), { seed, size: 96 });
      hashOf[n] = sha256sum(file(n));
    }
    const s = await aliceJson<ScanSummary>(ws, ['index', 'update']);
    expect(s.new).toBe(3);
    // The user's own tag on a: it must keep its source when the model says the same.
    await aliceJson(ws, ['tag', 'add', file('a.png'), '--tag', 'subject:lighthouse']);
  });

  afterAll(async () => {
    await stub.close();
    ws.cleanup();
  });

  it('sends the model, a JPEG data URL and the key from api_key_env; records tags, description and cost', async () => {
    const r = await understand(ws, env, [file('a.png')]);
    expect(r).toMatchObject({ understood: 1, sent: 1, failed: 0 });
    expect(stub.requests).toHaveLength(1);
    const req = stub.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(req.body['model']).toBe('gpt-4o-mini');
    const content = (
      req.body['messages'] as { content: { type: string; image_url?: { url: string } }[] }[]
    )[0]!.content;
    const image = content.find((c) => c.type === 'image_url');
    expect(image?.image_url?.url).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(content.find((c) => c.type === 'text')).toBeDefined();

    const u = readSidecarJson(lib, hashOf['a.png']!).analysis.understanding;
    expect(u.tags).toMatchObject({
      style: ['watercolor'],
      mood: ['serene', 'calm'],
      subject: ['lighthouse'],
      color: ['teal'],
    });
    expect(u.tags['weird']).toBeUndefined();
    expect(u.description).toBe(ANSWER.description);
    // 1000 × $2.5/M + 200 × $10/M
    expect(u.cost).toBeCloseTo(0.0045, 10);
    expect(u).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(typeof u['at']).toBe('string');
    expect(u.tag_sources?.['subject:lighthouse']).toBe('user');
    expect(u.tag_sources?.['mood:serene']).toBe('ai:gpt-4o-mini');
    expect(r.items[0]?.cost_usd).toBeCloseTo(0.0045, 10);
    const spend = JSON.parse(
      fs.readFileSync(path.join(ws.home, 'state', 'understanding-spend.json'), 'utf8'),
    );
    expect(spend.spent_usd).toBeCloseTo(0.0045, 10);
    expect(fs.statSync(path.join(ws.home, 'state', 'understanding-spend.json')).mode & 0o777).toBe(0o600);
  });

  it('a second run sends nothing; --force sends again', async () => {
    const again = await understand(ws, env, [file('a.png')]);
    expect(again).toMatchObject({ cached: 1, sent: 0 });
    expect(stub.requests).toHaveLength(1);
    const forced = await understand(ws, env, [file('a.png'), '--force']);
    expect(forced).toMatchObject({ understood: 1, sent: 1 });
    expect(stub.requests).toHaveLength(2);
  });

  it('alice search --tag mood:serene finds the understood asset', async () => {
    const res = await aliceJson<{ results: { path: string | null }[] }>(ws, [
      'search',
      '--tag',
      'mood:serene',
    ]);
    expect(res.results.map((x) => x.path)).toEqual([file('a.png')]);
  });

  it('--dry-run prints how many would be sent and the estimated cost, sending nothing', async () => {
    const r = await understand(ws, env, ['--all', '--dry-run']);
    expect(r).toMatchObject({ dry_run: true, would_send: 2, cached: 1, sent: 0 });
    expect(r.estimated_cost_usd).toBeGreaterThan(0);
    expect(stub.requests).toHaveLength(2);
    const text = await runAlice(['understand', '--all', '--dry-run'], {
      env: { ...ws.env, ...env },
      cwd: ws.dir,
    });
    expect(text.stdout).toMatch(/2 assets would be sent to gpt-4o-mini .*estimated at most \$/);
  });

  it('a budget smaller than one request sends nothing and says why', async () => {
    ws.writeSettings(understandingSettings(stub, 'openai', { budget_usd: 0.006 }));
    const r = await understand(ws, env, [file('b.png')], 1);
    expect(r).toMatchObject({ over_budget: 1, sent: 0 });
    expect(r.items[0]?.reason).toMatch(/budget: \$0\.0090 of \$0\.0060 spent|budget:.*may cost up to/);
    expect(stub.requests).toHaveLength(2);
    const status = await runAlice(['status'], { env: { ...ws.env, ...env }, cwd: ws.dir });
    expect(status.stdout).toMatch(
      /understanding: off \(gpt-4o-mini via openai\), spent \$0\.0090 of \$0\.0060 in 2 requests/,
    );
    ws.writeSettings(understandingSettings(stub, 'openai'));
  });

  it('429 with Retry-After: 1, then 200, succeeds', async () => {
    stub.queue.push({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const before = stub.requests.length;
    const started = Date.now();
    const r = await understand(ws, env, [file('b.png')]);
    expect(r).toMatchObject({ understood: 1, sent: 1 });
    expect(stub.requests.length - before).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(readSidecarJson(lib, hashOf['b.png']!).analysis.understanding.tags['mood']).toContain('serene');
  });

  it('prose without JSON writes nothing and reports the asset', async () => {
    stub.queue.push({
      kind: 'answer',
      text: 'What a lovely picture of a lighthouse at sea!',
      input: 900,
      output: 20,
    });
    const before = fs.readFileSync(
      path.join(lib, '.metadata', hashOf['c.jpg']!.slice(0, 2), `${hashOf['c.jpg']!}.json`),
    );
    const r = await understand(ws, env, [file('c.jpg')], 1);
    expect(r).toMatchObject({ failed: 1, understood: 0, sent: 1 });
    expect(r.items[0]).toMatchObject({ content_hash: hashOf['c.jpg'], path: file('c.jpg') });
    expect(r.items[0]?.reason).toMatch(/not usable: the answer holds no JSON object/);
    const after = fs.readFileSync(
      path.join(lib, '.metadata', hashOf['c.jpg']!.slice(0, 2), `${hashOf['c.jpg']!}.json`),
    );
    expect(after.equals(before)).toBe(true);
  });

  it('emitted asset.understood events, and the key appears in no file under the workspace', () => {
    const events = fs
      .readdirSync(path.join(ws.home, 'events'))
      .filter((n) => n.endsWith('.jsonl'))
      .flatMap((n) =>
        fs
          .readFileSync(path.join(ws.home, 'events', n), 'utf8')
          .trim()
          .split('\n'),
      )
      .map((l) => JSON.parse(l) as { type: string; payload: Record<string, unknown> });
    const understood = events.filter((e) => e.type === 'asset.understood');
    expect(understood.length).toBeGreaterThanOrEqual(3);
    expect(understood[0]?.payload).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      content_hash: hashOf['a.png'],
    });
    expect(filesContaining(ws.dir, KEY)).toEqual([]);
  });
});

describe('alice understand (Anthropic Messages)', () => {
  let ws: Workspace;
  let stub: VisionStub;
  let lib: string;
  let hash: string;
  const env = { [KEY_ENV]: KEY };

  beforeAll(async () => {
    stub = await startVisionStub('anthropic', {
      kind: 'answer',
      text: JSON.stringify(ANSWER),
      input: 1500,
      output: 100,
    });
    ws = makeWorkspace();
    lib = ws.roots[0] as string;
    ws.writeSettings(understandingSettings(stub, 'anthropic'));
    await writeImage(path.join(lib, 'x.webp'), { seed: 31, size: 80 });
    hash = sha256sum(path.join(lib, 'x.webp'));
    await aliceJson<ScanSummary>(ws, ['index', 'update']);
  });

  afterAll(async () => {
    await stub.close();
    ws.cleanup();
  });

  it('sends x-api-key, anthropic-version, the model and a base64 JPEG source; records usage × price', async () => {
    const r = await understand(ws, env, [path.join(lib, 'x.webp')]);
    expect(r).toMatchObject({ understood: 1, sent: 1 });
    const req = stub.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe(KEY);
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.headers['authorization']).toBeUndefined();
    expect(req.body['model']).toBe('claude-3-5-haiku-latest');
    expect(typeof req.body['max_tokens']).toBe('number');
    const content = (req.body['messages'] as { content: Record<string, unknown>[] }[])[0]!.content;
    const image = content.find((c) => c['type'] === 'image') as
      { source: Record<string, string> } | undefined;
    expect(image?.source).toMatchObject({ type: 'base64', media_type: 'image/jpeg' });
    expect(Buffer.from(image?.source['data'] ?? '', 'base64').subarray(0, 2)).toEqual(
      Buffer.from([0xff, 0xd8]),
    );
    const sidecar: Sidecar = readSidecarJson(lib, hash);
    // 1500 × $2.5/M + 100 × $10/M
    expect(sidecar.analysis.understanding.cost).toBeCloseTo(0.00475, 10);
    expect(sidecar.analysis.understanding).toMatchObject({
      provider: 'anthropic',
      description: ANSWER.description,
    });
    expect(filesContaining(ws.dir, KEY)).toEqual([]);
  });
});

describe('alice understand and damaged files', () => {
  let ws: Workspace;
  let stub: VisionStub;
  const env = { [KEY_ENV]: KEY };

  beforeAll(async () => {
    stub = await startVisionStub('openai', { kind: 'answer', text: FENCED, input: 1000, output: 200 });
    ws = makeWorkspace();
    ws.writeSettings(understandingSettings(stub, 'openai'));
    const lib = ws.roots[0] as string;
    await writeImage(path.join(lib, 'sound.png'), { seed: 41, size: 96 });
    const whole = await writeImage(path.join(lib, 'whole.jpg'), { seed: 42, size: 96, format: 'jpeg' });
    fs.writeFileSync(path.join(lib, 'truncated.jpg'), whole.subarray(0, Math.floor(whole.length / 2)));
    fs.rmSync(path.join(lib, 'whole.jpg'));
    fs.writeFileSync(path.join(lib, 'not-an-image.png'), 'plain text, not a PNG');
    const s = await aliceJson<ScanSummary>(ws, ['index', 'update']);
    expect(s.new).toBe(3);
  });

  afterAll(async () => {
    await stub.close();
    ws.cleanup();
  });

  it('--dry-run counts only what could be sent: damaged files are skipped with the reason', async () => {
    const r = await understand(ws, env, ['--all', '--dry-run']);
    expect(r).toMatchObject({ assets: 3, would_send: 1, skipped: 2, sent: 0 });
    const skipped = r.items.filter((i) => i.status === 'skipped');
    expect(skipped.map((i) => path.basename(i.path ?? '')).sort()).toEqual([
      'not-an-image.png',
      'truncated.jpg',
    ]);
    for (const i of skipped) expect(i.reason).toMatch(/^damaged \(.+\): replace the file from a good copy$/);
    // The estimate is that of the one sound image.
    const one = await understand(ws, env, [path.join(ws.roots[0] as string, 'sound.png'), '--dry-run']);
    expect(one.would_send).toBe(1);
    expect(r.estimated_cost_usd).toBe(one.estimated_cost_usd);
  });

  it('a real run sends the sound image only', async () => {
    const r = await understand(ws, env, ['--all']);
    expect(r).toMatchObject({ understood: 1, sent: 1, skipped: 2, failed: 0 });
    expect(stub.requests).toHaveLength(1);
  });
});
