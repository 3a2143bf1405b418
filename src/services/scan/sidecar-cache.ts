/**
 * Per-scan view of sidecars: reads each (root, hash) once, sets untrusted sidecars aside, and
 * writes through (or, in a dry run, only pretends to).
 */
import {
  listSidecars,
  readSidecar,
  readSidecarFile,
  removeSidecar,
  setSidecarAside,
  sidecarPath,
  writeSidecar,
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

export class SidecarCache {
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
    return out;
  }

  async put(root: string, sidecar: Sidecar): Promise<void> {
    this.cache.set(this.key(root, sidecar.content_hash), sidecar);
    if (this.dryRun || this.protectedFiles.has(sidecarPath(root, sidecar.content_hash))) return;
    await writeSidecar(root, sidecar);
    this.written++;
  }

  async remove(root: string, hash: string): Promise<void> {
    this.cache.set(this.key(root, hash), null);
    if (this.dryRun) return;
    await removeSidecar(root, hash);
    this.removed++;
  }
}
