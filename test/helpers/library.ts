/**
 * Drives the library in-process (the same container and operations the CLI uses) for integration
 * tests: rebuild, update, verify, and a plain view of what the index holds. Every call opens and
 * closes its own container, so a child process can open the index right after.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Container } from '../../src/app/container.js';
import { openDb } from '../../src/adapters/duckdb.adapter.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Sidecar } from '../../src/domain/sidecar.js';
import { indexRebuild, indexUpdate, indexVerify } from '../../src/app/index-ops.js';
import { NO_PROGRESS } from '../../src/ports.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import type { VerifyReport } from '../../src/services/verify/verify.service.js';
import type { Workspace } from './fixtures.js';

/** Loads the workspace's settings the way the CLI does (ALICE_CONFIG + ALICE_HOME). */
export function configOf(ws: Workspace): Config {
  return loadConfig({ env: { ...ws.env }, cwd: ws.dir });
}

/** Runs `fn` with a container for the workspace and always closes it. */
export async function withContainer<T>(
  ws: Workspace,
  fn: (c: Container) => Promise<T>,
  opts: { readOnly?: boolean } = {},
): Promise<T> {
  const container = new Container(configOf(ws), { readOnly: opts.readOnly ?? false });
  try {
    return await fn(container);
  } finally {
    await container.close();
  }
}

export function rebuild(ws: Workspace, opts: { dryRun?: boolean } = {}): Promise<ScanSummary> {
  const dryRun = opts.dryRun ?? false;
  return withContainer(
    ws,
    async (c) => (await indexRebuild(c, { dryRun, verify: false, progress: NO_PROGRESS })).summary,
    { readOnly: dryRun },
  );
}

export function update(
  ws: Workspace,
  opts: { dryRun?: boolean; allowMassDelete?: boolean } = {},
): Promise<ScanSummary> {
  const dryRun = opts.dryRun ?? false;
  return withContainer(
    ws,
    (c) => indexUpdate(c, { dryRun, allowMassDelete: opts.allowMassDelete ?? false, progress: NO_PROGRESS }),
    { readOnly: dryRun },
  );
}

export function verify(ws: Workspace, opts: { full?: boolean } = {}): Promise<VerifyReport> {
  return withContainer(ws, (c) => indexVerify(c, { full: opts.full ?? false, progress: NO_PROGRESS }), {
    readOnly: true,
  });
}

export interface IndexView {
  /** content_hash → status, file name and `category:value` tags. */
  assets: Record<string, { status: string; file_name: string; tags: string[]; derived_from: string | null }>;
  /** path → content hash, root and whether the file is present. */
  locations: Record<string, { content_hash: string; root: string; present: boolean }>;
}

/** What the index file holds, read with a plain read-only DuckDB connection. */
export async function readIndex(dbFile: string): Promise<IndexView> {
  const db = await openDb(dbFile, { readOnly: true });
  try {
    const view: IndexView = { assets: {}, locations: {} };
    const assets = await db.all(
      `SELECT content_hash, status, file_name, tags, derived_from FROM assets ORDER BY 1`,
    );
    for (const a of assets) {
      view.assets[String(a['content_hash'])] = {
        status: String(a['status']),
        file_name: String(a['file_name']),
        tags: [...((a['tags'] as string[] | null) ?? [])].sort(),
        derived_from: (a['derived_from'] as string | null) ?? null,
      };
    }
    const locs = await db.all(`SELECT path, content_hash, root, present FROM locations ORDER BY 1`);
    for (const l of locs) {
      view.locations[String(l['path'])] = {
        content_hash: String(l['content_hash']),
        root: String(l['root']),
        present: l['present'] === true,
      };
    }
    return view;
  } finally {
    db.close();
  }
}

/** Path of an asset's sidecar below a root. */
export function sidecarFile(root: string, hash: string): string {
  return path.join(root, '.metadata', hash.slice(0, 2), `${hash}.json`);
}

export function readSidecarJson(root: string, hash: string): Sidecar {
  return JSON.parse(fs.readFileSync(sidecarFile(root, hash), 'utf8')) as Sidecar;
}

/** Edits a sidecar's JSON in place, as a user or another tool would. */
export function editSidecarJson(root: string, hash: string, edit: (s: Sidecar) => void): Sidecar {
  const s = readSidecarJson(root, hash);
  edit(s);
  fs.writeFileSync(sidecarFile(root, hash), `${JSON.stringify(s, null, 2)}\n`);
  return s;
}

/** Hashes named by the sidecar files below `<root>/.metadata` (sharded layout). */
export function sidecarHashes(root: string): string[] {
  const meta = path.join(root, '.metadata');
  if (!fs.existsSync(meta)) return [];
  const out: string[] = [];
  for (const shard of fs.readdirSync(meta)) {
    const dir = path.join(meta, shard);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir))
      if (/^[0-9a-f]{64}\.json$/.test(name)) out.push(name.slice(0, 64));
  }
  return out.sort();
}
