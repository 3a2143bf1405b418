/**
 * Nothing is the last copy in the index. With embedding off, a user tag lives only in the sidecar
 * and the index; the sidecar garbled while the agent is stopped must not take the tag with it:
 * `alice index rebuild` writes the sidecar back from the previous index before it swaps the new
 * one in, `alice index verify --repair` does the same on demand (plain verify says so), and an
 * update that reads the garbled sidecar repairs it too. The garbled original is kept aside.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllAgents, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson, sidecarFile } from '../helpers/library.js';
import { readSidecarFile } from '../../src/adapters/sidecar-store.adapter.js';
import { cleanupWorkspaces, workspace } from './helpers.js';

afterAll(async () => {
  await killAllAgents();
  cleanupWorkspaces();
});

const TAG = 'subject:lighthouse';

async function alice(ws: Workspace, args: string[], code = 0): Promise<unknown> {
  const r = await runAlice([...args, '--json', '--no-progress'], {
    env: ws.env,
    cwd: ws.dir,
    timeoutMs: 120_000,
  });
  expect(r.code, `alice ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
  return r.json();
}

async function tagged(ws: Workspace): Promise<string[]> {
  const out = (await alice(ws, ['search', '--tag', TAG])) as { results: { content_hash: string }[] };
  return out.results.map((h) => h.content_hash);
}

/** Garbage written into the middle of the sidecar: it no longer parses. Returns its bytes. */
function garble(file: string): Buffer {
  const data = fs.readFileSync(file);
  const mid = Math.floor(data.length / 2);
  data.fill(0x7b, mid, Math.min(data.length, mid + 40));
  fs.writeFileSync(file, data);
  return data;
}

function asideOf(file: string): string[] {
  const dir = path.dirname(file);
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith(`${path.basename(file)}.corrupt-`))
    .map((n) => path.join(dir, n));
}

/** A library of two images, one with a user tag, embedding off (the tag is in no file). */
async function library(
  settings: Record<string, unknown> = {},
): Promise<{ ws: Workspace; root: string; file: string; hash: string }> {
  const ws = workspace(['lib'], { ...settings, embedding: { enabled: false } });
  const root = ws.roots[0] as string;
  const file = path.join(root, 'keep.png');
  await writeImage(file, { seed: 8100, size: 24 });
  await writeImage(path.join(root, 'other.png'), { seed: 8101, size: 24 });
  await alice(ws, ['index', 'rebuild']);
  await alice(ws, ['tag', 'add', file, '--tag', TAG]);
  await alice(ws, ['describe', file, 'the lighthouse at dusk, written by the user']);
  const hash = sha256Of(file);
  expect(await tagged(ws)).toEqual([hash]);
  return { ws, root, file, hash };
}

function expectRepaired(root: string, hash: string, garbled: Buffer): void {
  const s = readSidecarJson(root, hash);
  expect(s.analysis.understanding.tags['subject']).toContain('lighthouse');
  expect(s.analysis.understanding.tag_sources?.['subject:lighthouse']).toBe('user');
  expect(s.analysis.understanding.description).toBe('the lighthouse at dusk, written by the user');
  expect(s.last_paths).toEqual(['keep.png']);
  const aside = asideOf(sidecarFile(root, hash));
  expect(aside).toHaveLength(1);
  expect(fs.readFileSync(aside[0] as string)).toEqual(garbled);
}

describe('a garbled sidecar whose asset the index still describes', { timeout: 300_000 }, () => {
  it('index rebuild writes it back from the previous index: the user tag survives', async () => {
    const { ws, root, hash } = await library();
    const garbled = garble(sidecarFile(root, hash));

    const verify = (await alice(ws, ['index', 'verify'], 1)) as {
      problems: { kind: string; path: string; detail: string }[];
    };
    expect(verify.problems.filter((p) => p.kind === 'corrupt_sidecar')).toEqual([
      expect.objectContaining({
        path: sidecarFile(root, hash),
        detail: expect.stringContaining('alice index verify --repair') as unknown,
      }),
    ]);

    const rebuilt = (await alice(ws, ['index', 'rebuild'])) as {
      summary: { sidecar_issues: { kind: string; file: string; movedTo?: string }[] };
    };
    expect(rebuilt.summary.sidecar_issues).toEqual([
      expect.objectContaining({ kind: 'repaired', file: sidecarFile(root, hash) }),
    ]);
    expect(await tagged(ws)).toEqual([hash]);
    expectRepaired(root, hash, garbled);
    await alice(ws, ['index', 'verify']);

    // Once more: the repaired sidecar is the source now, the next rebuild keeps the tag by itself.
    await alice(ws, ['index', 'rebuild']);
    expect(await tagged(ws)).toEqual([hash]);
  });

  it('index verify --repair (with a dry run first) writes it back; verify is then clean', async () => {
    const { ws, root, hash } = await library();
    const file = sidecarFile(root, hash);
    const garbled = garble(file);

    const dry = (await alice(ws, ['index', 'verify', '--repair', '--dry-run'], 1)) as {
      repair: { dry_run: boolean; repaired: { file: string; tags: number }[] };
    };
    expect(dry.repair).toMatchObject({ dry_run: true, repaired: [{ file, tags: 1 }] });
    expect(fs.readFileSync(file)).toEqual(garbled);
    expect(asideOf(file)).toEqual([]);

    const done = (await alice(ws, ['index', 'verify', '--repair'])) as {
      clean: boolean;
      repair: { repaired: { file: string; movedTo?: string }[]; not_repaired: unknown[] };
    };
    expect(done.clean).toBe(true);
    expect(done.repair.not_repaired).toEqual([]);
    expect(done.repair.repaired).toEqual([expect.objectContaining({ file, movedTo: asideOf(file)[0] })]);
    expectRepaired(root, hash, garbled);
    // The repaired sidecar alone is enough: a rebuild after it keeps the tag.
    await alice(ws, ['index', 'rebuild']);
    expect(await tagged(ws)).toEqual([hash]);
  });

  it('an update that reads it (the file was touched) repairs it instead of starting afresh', async () => {
    const { ws, root, file, hash } = await library();
    const garbled = garble(sidecarFile(root, hash));
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    const updated = (await alice(ws, ['index', 'update'])) as {
      sidecar_issues: { kind: string }[];
    };
    expect(updated.sidecar_issues.map((i) => i.kind)).toEqual(['repaired']);
    expect(await tagged(ws)).toEqual([hash]);
    expectRepaired(root, hash, garbled);
  });

  it("the agent's scheduled consistency check writes it back instead of only reporting it", async () => {
    // Every 2 s (node-cron with seconds), so the test does not wait for 04:45.
    const { ws, root, hash } = await library({ verify: { consistency_cron: '*/2 * * * * *' } });
    const file = sidecarFile(root, hash);
    const garbled = garble(file);
    const agent = await startAgent(ws);
    try {
      await waitFor(async () => (await readSidecarFile(file, hash)).status === 'ok', {
        timeoutMs: 30_000,
        what: 'the consistency check to repair the sidecar',
      });
      expectRepaired(root, hash, garbled);
      expect(await tagged(ws)).toEqual([hash]);
      expect(agent.output()).toContain('garbled sidecar written back from the index');
    } finally {
      await agent.stop();
    }
  });
});
