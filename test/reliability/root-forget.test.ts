/**
 * `alice root forget <path> [--dry-run]`: the user's word that an offline root is gone for good.
 * Nothing under an offline root is marked missing on alice's own judgement; this marks its files
 * missing (a configured root: tags and sidecars stay, a returning file is restored) or removes its
 * locations (a root no longer in the settings). An online root or a path that is not a root is
 * refused with exit 2 and a hint. The mass-delete brake's own override has a dry run too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllAgents, readStatusFile, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex } from '../helpers/library.js';
import { cleanupWorkspaces, workspace } from './helpers.js';
import type { ForgetRootReport } from '../../src/services/scan/root-forget.js';

afterAll(async () => {
  await killAllAgents();
  cleanupWorkspaces();
});

type Forgot = ForgetRootReport;

async function alice(ws: Workspace, args: string[], code = 0): Promise<{ json: unknown; out: string }> {
  const r = await runAlice([...args, '--no-progress'], { env: ws.env, cwd: ws.dir, timeoutMs: 120_000 });
  expect(r.code, `alice ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
  return { json: args.includes('--json') && code === 0 ? r.json() : undefined, out: r.stdout + r.stderr };
}

async function presence(ws: Workspace, root: string): Promise<boolean[]> {
  const view = await readIndex(ws.searchDb);
  return Object.values(view.locations)
    .filter((l) => l.root === root)
    .map((l) => l.present);
}

async function setup(): Promise<{ ws: Workspace; online: string; away: string; files: string[] }> {
  const ws = workspace(['online', 'away'], { embedding: { enabled: false } });
  const [online, away] = ws.roots as [string, string];
  const files = [path.join(online, 'on.png'), ...[0, 1, 2].map((i) => path.join(away, `a-${i}.png`))];
  for (const [i, f] of files.entries()) await writeImage(f, { seed: 8400 + i, size: 24 });
  await alice(ws, ['index', 'rebuild']);
  await alice(ws, ['tag', 'add', files[1] as string, '--tag', 'subject:harbour']);
  return { ws, online, away, files };
}

describe('alice root forget', { timeout: 300_000 }, () => {
  it('an offline root: --dry-run changes nothing; then its files are missing, tags kept; back, restored', async () => {
    const { ws, online, away, files } = await setup();
    const awayHashes = files.slice(1).map((f) => sha256Of(f));
    const onlineHash = sha256Of(files[0] as string);
    const parked = `${away}-parked`;
    fs.renameSync(away, parked);

    const dry = (await alice(ws, ['root', 'forget', away, '--dry-run', '--json'])).json as Forgot;
    expect(dry).toMatchObject({
      root: away,
      dry_run: true,
      configured: true,
      marked_missing: 3,
      assets_now_missing: 3,
    });
    expect(dry.reason).toMatch(/does not exist/);
    expect(await presence(ws, away)).toEqual([true, true, true]);
    const dryText = await alice(ws, ['root', 'forget', `${away}/`, '--dry-run']);
    expect(dryText.out).toContain(`[dry run] root forget ${away}`);
    expect(dryText.out).toContain('would mark 3 files missing');

    const done = (await alice(ws, ['root', 'forget', away, '--json'])).json as Forgot;
    expect(done).toMatchObject({ dry_run: false, marked_missing: 3, assets_now_missing: 3 });
    expect(await presence(ws, away)).toEqual([false, false, false]);
    const view = await readIndex(ws.searchDb);
    for (const h of awayHashes) expect(view.assets[h]?.status).toBe('missing');
    expect(view.assets[onlineHash]?.status).toBe('present');
    // The user tag is still on the asset, and the events say what went missing.
    const tagged = (await alice(ws, ['search', '--tag', 'subject:harbour', '--include-missing', '--json']))
      .json as {
      results: { content_hash: string }[];
    };
    expect(tagged.results.map((r) => r.content_hash)).toEqual([awayHashes[0]]);

    // An online root, and a path that is no root: exit 2 with a hint; nothing changes.
    const refused = await alice(ws, ['root', 'forget', online], 2);
    expect(refused.out).toMatch(/is online/);
    expect(refused.out).toContain('alice index update');
    const unknown = await alice(ws, ['root', 'forget', path.join(ws.dir, 'nowhere')], 2);
    expect(unknown.out).toMatch(/is not a root/);
    expect(await presence(ws, online)).toEqual([true]);

    // The disk was not gone after all: its files are restored, tags and all.
    fs.renameSync(parked, away);
    const updated = (await alice(ws, ['index', 'update', '--json'])).json as {
      restored: number;
      new: number;
    };
    expect(updated).toMatchObject({ restored: 3, new: 0 });
    expect(await presence(ws, away)).toEqual([true, true, true]);
    const back = (await alice(ws, ['search', '--tag', 'subject:harbour', '--json'])).json as {
      results: { content_hash: string }[];
    };
    expect(back.results.map((r) => r.content_hash)).toEqual([awayHashes[0]]);
  });

  it('through the running agent: the offline root it shows is forgotten, an online one refused', async () => {
    const { ws, online, away } = await setup();
    const agent = await startAgent(ws);
    try {
      fs.renameSync(away, `${away}-parked`);
      await waitFor(() => readStatusFile(ws)?.roots.find((r) => r.path === away)?.state === 'offline', {
        what: 'the root shown offline',
      });
      await alice(ws, ['root', 'forget', online], 2);
      const done = (await alice(ws, ['root', 'forget', away, '--json'])).json as Forgot;
      expect(done).toMatchObject({ configured: true, marked_missing: 3, assets_now_missing: 3 });
      const listed = (await alice(ws, ['search', '--json'])).json as { results: unknown[] };
      expect(listed.results).toHaveLength(1);
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
    expect(await presence(ws, away)).toEqual([false, false, false]);
  });

  it('a root no longer in the settings: its locations are removed', async () => {
    const { ws, away } = await setup();
    ws.writeSettings({ storage: { asset_paths: ['online'] }, embedding: { enabled: false } });
    fs.rmSync(away, { recursive: true });
    const done = (await alice(ws, ['root', 'forget', away, '--json'])).json as Forgot;
    expect(done).toMatchObject({
      configured: false,
      locations_removed: 3,
      marked_missing: 0,
      assets_now_missing: 3,
    });
    expect(await presence(ws, away)).toEqual([]);
    const verify = await runAlice(['index', 'verify', '--json'], { env: ws.env });
    expect(verify.json<{ problems: { kind: string }[] }>().problems).toEqual([]);
  });

  it('the mass-delete override has a dry run: it reports what it would mark, and marks nothing', async () => {
    const ws = workspace(['lib'], { embedding: { enabled: false } });
    const root = ws.roots[0] as string;
    const files = Array.from({ length: 10 }, (_, i) => path.join(root, `m${i}.png`));
    for (const [i, f] of files.entries()) await writeImage(f, { seed: 8500 + i, size: 16 });
    await alice(ws, ['index', 'rebuild']);
    for (const f of files.slice(0, 4)) fs.rmSync(f);
    const refused = await alice(ws, ['index', 'update'], 1);
    expect(refused.out).toContain('--allow-mass-delete --dry-run');
    const dry = (await alice(ws, ['index', 'update', '--allow-mass-delete', '--dry-run', '--json'])).json as {
      missing: number;
      mass_delete_blocked: unknown[];
    };
    expect(dry).toMatchObject({ missing: 4, mass_delete_blocked: [] });
    expect((await presence(ws, root)).filter((p) => !p)).toHaveLength(0);
    const done = (await alice(ws, ['index', 'update', '--allow-mass-delete', '--json'])).json as {
      missing: number;
    };
    expect(done.missing).toBe(4);
    expect((await presence(ws, root)).filter((p) => !p)).toHaveLength(4);
  });
});
