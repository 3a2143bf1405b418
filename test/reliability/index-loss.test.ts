/**
 * Index loss: with the agent stopped, the DuckDB file is deleted, and (separately) overwritten with
 * garbage. On the next start the agent rebuilds it from the files and the sidecars, and `alice
 * search --json` gives the same answers as before the loss: the same content hashes and totals for
 * a plain listing, tag queries (including user tags that lived only in sidecars: embedding is off
 * here, so the files cannot carry them) and prompt queries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentCall, killAllAgents, readStatusFile, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { imageBytes, sha256Of, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson } from '../helpers/library.js';
import { tEXt } from '../generation/png-helpers.js';
import { cleanupWorkspaces, workspace } from './helpers.js';

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

const PROMPTS = [
  'a red fox sitting in deep snow, cinematic lighting',
  'a blue whale under the ocean surface, volumetric light',
  'portrait of an old sailor, oil painting',
];

/** A noise PNG carrying an AUTOMATIC1111 `parameters` text chunk. */
async function generatedPng(seed: number, prompt: string): Promise<Buffer> {
  const png = await imageBytes('png', seed, 32);
  const params = `${prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: ${seed}, Size: 32x32, Model: testmodel`;
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), tEXt('parameters', params), png.subarray(iend)]);
}

const QUERIES: Record<string, string[]> = {
  all: [],
  'user tag': ['--tag', 'mood:calm'],
  'prompt word': ['--prompt', 'fox'],
  'prompt phrase': ['--prompt', '"blue whale"'],
  'generator, not tagged': ['--source', 'automatic1111', '--exclude-tag', 'project-x'],
};

type Answers = Record<string, { total: number; hashes: string[] }>;

async function answers(ws: Workspace): Promise<Answers> {
  const out: Answers = {};
  const runs = await Promise.all(
    Object.entries(QUERIES).map(async ([name, args]) => {
      const r = await runAlice(['search', ...args, '--limit', '1000', '--json'], { env: ws.env });
      return [name, r] as const;
    }),
  );
  for (const [name, r] of runs) {
    expect(r.code, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
    const res = r.json<{ total: number; results: { content_hash: string }[] }>();
    out[name] = { total: res.total, hashes: res.results.map((x) => x.content_hash).sort() };
  }
  return out;
}

describe('index loss while the agent is stopped', () => {
  it('deleted, then overwritten with garbage: the agent rebuilds it and search answers the same', async () => {
    const ws = workspace(['lib'], { embedding: { enabled: false } });
    const [lib] = ws.roots as [string];
    const files: string[] = [];
    for (let i = 0; i < 24; i++) {
      const f = path.join(lib, `set-${i % 3}`, `g-${i}.png`);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      const prompt = PROMPTS[i % 3] as string;
      fs.writeFileSync(
        f,
        i % 4 === 3 ? await imageBytes('png', 900 + i, 32) : await generatedPng(900 + i, prompt),
      );
      files.push(f);
    }
    fs.copyFileSync(files[0] as string, path.join(lib, 'copy-of-g-0.png')); // a duplicate
    const distinct = new Set(files.map(sha256Of)).size;

    let agent = await startAgent(ws, { timeoutMs: 60_000 });
    await waitFor(
      async () => {
        const res = await agentCall(ws, 'search', { limit: 1000 });
        return res.ok && (res.result as { total: number }).total === distinct;
      },
      { timeoutMs: 60_000, what: `${distinct} assets indexed` },
    );
    const tagged = files.filter((_, i) => i % 2 === 0);
    const tag = await runAlice(
      ['tag', 'add', ...tagged, '--tag', 'mood:calm', '--tag', 'project-x', '--json'],
      {
        env: ws.env,
      },
    );
    expect(tag.code, tag.stdout + tag.stderr).toBe(0);
    // The user tags are in the sidecars (the only place they are kept besides the index).
    const t0 = readSidecarJson(lib, sha256Of(tagged[0] as string));
    expect(JSON.stringify(t0.analysis.understanding.tags)).toContain('calm');
    const before = await answers(ws);
    expect(before['all']?.total).toBe(distinct);
    expect(before['user tag']?.total).toBeGreaterThan(0);
    expect(before['prompt word']?.total).toBeGreaterThan(0);
    expect(before['prompt phrase']?.total).toBeGreaterThan(0);
    expect((await agent.stop()).code).toBe(0);

    // 1. The index file is gone.
    fs.rmSync(ws.searchDb);
    fs.rmSync(`${ws.searchDb}.wal`, { force: true });
    agent = await startAgent(ws, { timeoutMs: 90_000 });
    expect(fs.existsSync(ws.searchDb)).toBe(true);
    expect(await answers(ws)).toEqual(before);
    expect((await agent.stop()).code).toBe(0);

    // 2. The index file is garbage of the same size.
    const size = fs.statSync(ws.searchDb).size;
    fs.writeFileSync(ws.searchDb, Buffer.alloc(size, 0x5a));
    fs.rmSync(`${ws.searchDb}.wal`, { force: true });
    agent = await startAgent(ws, { timeoutMs: 90_000 });
    expect(readStatusFile(ws)?.last_errors.map((e) => e.code)).toContain('INDEX_CORRUPT');
    expect(fs.readdirSync(path.dirname(ws.searchDb)).some((n) => n.includes('.corrupt-'))).toBe(true);
    expect(await answers(ws)).toEqual(before);
    expect((await agent.stop()).code).toBe(0);
  });
});
