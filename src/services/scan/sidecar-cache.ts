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
  kind: 'corrupt' | 'old_version';
  reason: string;
  movedTo?: string;
}

export class SidecarCache {
  private readonly cache = new Map<string, Sidecar | null>();
  readonly issues: SidecarIssue[] = [];
  /** Roots and hashes whose sidecar file is an old version: never overwritten by a scan. */
  private readonly protectedFiles = new Set<string>();
  written = 0;
  removed = 0;

  constructor(private readonly dryRun: boolean) {}

  private key(root: string, hash: string): string {
    return `${root}\0${hash}`;
  }

  async get(root: string, hash: string): Promise<Sidecar | null> {
    const key = this.key(root, hash);
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    const res = await readSidecar(root, hash);
    let value: Sidecar | null = null;
    if (res.status === 'ok') value = res.sidecar;
    else if (res.status === 'corrupt') await this.setAside(res.file, res.reason);
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
        await this.setAside(entry.file, res.reason);
        this.cache.set(this.key(root, entry.hash), null);
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
