/**
 * Per-scan view of sidecars: reads each (root, hash) once, sets untrusted sidecars aside, and
 * writes them in batches (or, in a dry run, only pretends to). A put is durable once `flush()`
 * has returned without listing it in `failures`: the scan flushes before it touches the index.
 */
import {
  listSidecars,
  readSidecar,
  readSidecarFile,
  removeSidecar,
  setSidecarAside,
  sidecarPath,
  writeSidecars,
} from '../../adapters/sidecar-store.adapter.js';
import type { Sidecar } from '../../domain/sidecar.js';

export interface SidecarIssue {
  file: string;
  /** `repaired`: garbled, written back from what the index held (the original kept aside). */
  kind: 'corrupt' | 'old_version' | 'repaired';
  reason: string;
  movedTo?: string;
}

/** Writes a garbled sidecar back from the index; null when the index does not know the asset. */
export type SidecarRecovery = (
  root: string,
  hash: string,
  file: string,
  dryRun: boolean,
) => Promise<{ sidecar: Sidecar; movedTo?: string } | null>;

/** A sidecar that could not be written: the scan forgets its asset (retried on the next pass). */
export interface SidecarWriteFailure {
  root: string;
  hash: string;
  error: unknown;
}

/** Sidecars written together: their temp files fsynced in parallel, each folder fsynced once. */
export const SIDECAR_WRITE_BATCH = 128;

export class SidecarCache {
  /** Puts not yet on disk, by sidecar file (a later put of the same file replaces the earlier). */
  private pending = new Map<string, { root: string; sidecar: Sidecar }>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly failed: SidecarWriteFailure[] = [];
  /** Roots whose every sidecar was loaded (rebuild): a hash not in the cache has none there. */
  private readonly complete = new Set<string>();
  private readonly cache = new Map<string, Sidecar | null>();
  readonly issues: SidecarIssue[] = [];
  /** Roots and hashes whose sidecar file is an old version: never overwritten by a scan. */
  private readonly protectedFiles = new Set<string>();
  written = 0;
  removed = 0;

  constructor(
    private readonly dryRun: boolean,
    private readonly recover?: SidecarRecovery,
  ) {}

  private key(root: string, hash: string): string {
    return `${root}\0${hash}`;
  }

  async get(root: string, hash: string): Promise<Sidecar | null> {
    const key = this.key(root, hash);
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    if (this.complete.has(root)) return null;
    const res = await readSidecar(root, hash);
    let value: Sidecar | null = null;
    if (res.status === 'ok') value = res.sidecar;
    else if (res.status === 'corrupt') value = await this.corrupt(root, hash, res.file, res.reason);
    else if (res.status === 'old_version') {
      this.protectedFiles.add(res.file);
      this.issues.push({
        file: res.file,
        kind: 'old_version',
        reason: `sidecar version ${res.version}: run \`alice migrate\``,
      });
    }
    this.cache.set(key, value);
    return value;
  }

  /**
   * A garbled sidecar: written back from the index when it still describes the asset (so a user
   * tag kept only there is not lost), else set aside; either way the original is kept.
   */
  private async corrupt(root: string, hash: string, file: string, reason: string): Promise<Sidecar | null> {
    const repaired = this.recover === undefined ? null : await this.recover(root, hash, file, this.dryRun);
    if (repaired === null) {
      await this.setAside(file, reason);
      return null;
    }
    const issue: SidecarIssue = { file, kind: 'repaired', reason: `${reason}: rewritten from the index` };
    if (repaired.movedTo !== undefined) issue.movedTo = repaired.movedTo;
    this.issues.push(issue);
    if (!this.dryRun) this.written++;
    return repaired.sidecar;
  }

  private async setAside(file: string, reason: string): Promise<void> {
    const issue: SidecarIssue = { file, kind: 'corrupt', reason };
    if (!this.dryRun) issue.movedTo = await setSidecarAside(file);
    this.issues.push(issue);
  }

  /** Loads every sidecar of a root (rebuild): returns the valid ones. */
  async loadAll(root: string): Promise<Sidecar[]> {
    const out: Sidecar[] = [];
    for (const entry of await listSidecars(root)) {
      if (entry.flat) {
        this.issues.push({
          file: entry.file,
          kind: 'old_version',
          reason: 'legacy flat sidecar: run `alice migrate`',
        });
        continue;
      }
      const res = await readSidecarFile(entry.file, entry.hash);
      if (res.status === 'ok') {
        out.push(res.sidecar);
        this.cache.set(this.key(root, entry.hash), res.sidecar);
      } else if (res.status === 'corrupt') {
        const repaired = await this.corrupt(root, entry.hash, entry.file, res.reason);
        if (repaired !== null) out.push(repaired);
        this.cache.set(this.key(root, entry.hash), repaired);
      } else if (res.status === 'old_version') {
        this.protectedFiles.add(entry.file);
        this.issues.push({
          file: entry.file,
          kind: 'old_version',
          reason: `sidecar version ${res.version}: run \`alice migrate\``,
        });
        this.cache.set(this.key(root, entry.hash), null);
      }
    }
    this.complete.add(root);
    return out;
  }

  /**
   * Queues a sidecar write; a full batch is written before this returns (so memory stays bounded
   * and the writes overlap the analysis of the next files). Failures are kept for `failures`.
   */
  async put(root: string, sidecar: Sidecar): Promise<void> {
    this.cache.set(this.key(root, sidecar.content_hash), sidecar);
    const file = sidecarPath(root, sidecar.content_hash);
    if (this.dryRun || this.protectedFiles.has(file)) return;
    this.pending.set(file, { root, sidecar });
    if (this.pending.size >= SIDECAR_WRITE_BATCH) await this.flush();
  }

  /** Writes every queued sidecar; resolves when all of them (and earlier batches) are on disk or failed. */
  flush(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const run = this.flushing.then(async () => {
      if (batch.length === 0) return;
      const errors = await writeSidecars(batch).catch((err: unknown) => batch.map(() => err));
      batch.forEach((item, i) => {
        const error = errors[i];
        if (error === undefined) this.written++;
        else this.failed.push({ root: item.root, hash: item.sidecar.content_hash, error });
      });
    });
    this.flushing = run;
    return run;
  }

  /** Writes that failed since the last call (after `flush()`). */
  takeFailures(): SidecarWriteFailure[] {
    return this.failed.splice(0);
  }

  async remove(root: string, hash: string): Promise<void> {
    this.cache.set(this.key(root, hash), null);
    this.pending.delete(sidecarPath(root, hash));
    if (this.dryRun) return;
    await removeSidecar(root, hash);
    this.removed++;
  }
}
