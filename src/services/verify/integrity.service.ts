/**
 * Scheduled integrity verification: re-hashes present files whose size and mtime still match the
 * index, a slice per run within a time budget, rotating so every file is checked within
 * `cycle_days`. A mismatch (bit rot or an edit that kept the mtime) is reported, never "fixed".
 */
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../../adapters/fs.adapter.js';
import { sha256File } from '../../adapters/hash.adapter.js';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import { errnoCode } from '../../domain/errors.js';
import { MediaType, mediaInfoFor } from '../../domain/media.js';
import type { EventSink } from '../../ports.js';

export interface IntegrityDeps {
  repo: () => Promise<AssetRepository>;
  stateFile: string;
  budgetMs: number;
  cycleDays: number;
  events: EventSink;
}

export interface IntegrityReport {
  at: string;
  checked: number;
  skipped_changed: number;
  mismatches: { path: string; expected: string; actual: string }[];
  elapsed_ms: number;
  wrapped: boolean;
}

async function readCursor(file: string): Promise<string> {
  try {
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as { next_after?: unknown };
    return typeof data.next_after === 'string' ? data.next_after : '';
  } catch {
    return '';
  }
}

export class IntegrityService {
  constructor(private readonly deps: IntegrityDeps) {}

  async run(): Promise<IntegrityReport> {
    const started = Date.now();
    const repo = await this.deps.repo();
    const locs = (await repo.allLocations())
      .filter((l) => l.present)
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    const perRun = Math.ceil(locs.length / Math.max(1, this.deps.cycleDays));
    const after = await readCursor(this.deps.stateFile);
    const startIdx = Math.max(
      0,
      locs.findIndex((l) => l.path > after),
    );
    const report: IntegrityReport = {
      at: new Date().toISOString(),
      checked: 0,
      skipped_changed: 0,
      mismatches: [],
      elapsed_ms: 0,
      wrapped: false,
    };
    let last = after;
    for (let i = 0; i < locs.length && report.checked < perRun; i++) {
      if (Date.now() - started > this.deps.budgetMs) break;
      const loc = locs[(startIdx + i) % locs.length];
      if (loc === undefined) break;
      if (startIdx + i >= locs.length) report.wrapped = true;
      last = loc.path;
      try {
        const st = await fs.stat(loc.path);
        if (st.size !== loc.size || st.mtimeMs !== loc.mtime_ms) {
          report.skipped_changed++;
          continue;
        }
        const r = await sha256File(loc.path);
        report.checked++;
        if (r.hash !== loc.byte_hash) {
          report.mismatches.push({ path: loc.path, expected: loc.byte_hash, actual: r.hash });
          this.deps.events.emit('integrity.failed', {
            content_hash: loc.content_hash,
            path: loc.path,
            root: loc.root,
            media_type: mediaInfoFor(loc.path)?.type ?? MediaType.IMAGE,
            expected_hash: loc.byte_hash,
            actual_hash: r.hash,
            reason: 'content changed since it was indexed (same size and modification time)',
          });
        }
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'EFILECHANGED') throw err;
      }
    }
    await writeFileAtomic(
      this.deps.stateFile,
      `${JSON.stringify({ next_after: last, at: report.at })}\n`,
      0o600,
    );
    report.elapsed_ms = Date.now() - started;
    return report;
  }
}
