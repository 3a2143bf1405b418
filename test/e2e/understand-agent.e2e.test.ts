/**
 * The agent's understanding lane end to end: with `understanding.enabled: true`, a file dropped
 * into a watched folder is searchable while the (stub) vision model still holds its answer, and is
 * understood afterwards; the key appears nowhere under the workspace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FAST_AGENT_SETTINGS,
  agentCall,
  killAllAgents,
  mergeSettings,
  readEvents,
  startAgent,
  waitFor,
} from '../helpers/agent.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson } from '../helpers/library.js';
import { startVisionStub, type VisionStub } from '../tagging/vision-stub.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const KEY = 'sk-agent-test-Pw9xQ2mN7c';
const KEY_ENV = 'ALICE_UNDERSTAND_E2E_KEY';
const ANSWER = {
  tags: { mood: ['serene'], subject: ['harbour'] },
  description: 'A quiet harbour at dawn.',
};

let ws: Workspace;
let stub: VisionStub;
let lib: string;

interface Found {
  results: { content_hash: string; path: string }[];
}

async function search(filters: Record<string, unknown>): Promise<Found> {
  const res = await agentCall(ws, 'search', filters);
  if (!res.ok) throw new Error(`search failed: ${JSON.stringify(res.error)}`);
  return res.result as Found;
}

beforeAll(async () => {
  stub = await startVisionStub('openai', {
    kind: 'answer',
    text: JSON.stringify(ANSWER),
    input: 800,
    output: 60,
  });
  ws = makeWorkspace({
    settings: mergeSettings(FAST_AGENT_SETTINGS, {
      understanding: {
        enabled: true,
        provider: 'openai',
        base_url: stub.baseUrl,
        model: 'stub-vision-1',
        api_key_env: KEY_ENV,
        price_per_mtok: { input: 1, output: 2 },
        budget_usd: 1,
      },
    }),
  });
  ws.env[KEY_ENV] = KEY;
  lib = ws.roots[0] as string;
  await startAgent(ws);
});

afterAll(async () => {
  await killAllAgents();
  await stub?.close();
  ws?.cleanup();
});

describe('alice watch with understanding.enabled', () => {
  it('a dropped file is searchable first and understood afterwards', async () => {
    const release = stub.hold();
    const file = path.join(lib, 'harbour.png');
    await writeImage(file, { seed: 77, size: 64 });
    const hash = sha256Of(file);

    // Indexed while the model has not answered: search finds it, its sidecar has no understanding.
    const found = await waitFor(async () => (await search({})).results.find((r) => r.content_hash === hash), {
      timeoutMs: 60_000,
      what: 'the dropped file to be searchable',
    });
    expect(found.path).toBe(file);
    await waitFor(() => stub.requests.length > 0, { timeoutMs: 60_000, what: 'the understanding request' });
    expect(readSidecarJson(lib, hash).analysis.understanding['model']).toBeUndefined();
    expect((await search({ tags: ['mood:serene'] })).results).toEqual([]);
    expect(stub.requests[0]?.headers['authorization']).toBe(`Bearer ${KEY}`);

    release();
    const understood = await waitFor(
      async () => (await search({ tags: ['mood:serene'] })).results.find((r) => r.content_hash === hash),
      { timeoutMs: 60_000, what: 'the file to be understood' },
    );
    expect(understood).toBeDefined();
    const u = readSidecarJson(lib, hash).analysis.understanding;
    expect(u).toMatchObject({ model: 'stub-vision-1', description: ANSWER.description });
    expect(u.cost).toBeCloseTo((800 * 1 + 60 * 2) / 1e6, 12);
    const types = readEvents(ws).map((e) => e.type);
    expect(types.indexOf('asset.discovered')).toBeLessThan(types.indexOf('asset.understood'));
    expect(stub.requests).toHaveLength(1);
  });

  it('the key appears in no file under the workspace (logs, events, sidecars, index, state)', () => {
    const hits: string[] = [];
    const visit = (p: string): void => {
      const st = fs.lstatSync(p);
      if (st.isDirectory()) for (const n of fs.readdirSync(p)) visit(path.join(p, n));
      else if (st.isFile() && fs.readFileSync(p).includes(KEY)) hits.push(p);
    };
    visit(ws.dir);
    expect(hits).toEqual([]);
  });
});
