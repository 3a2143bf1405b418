/** Resolving `<file|hash>` references and reading one asset's full record (`alice show`). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../adapters/hash.adapter.js';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { AssetRow, LocationRow, TagRow } from '../../adapters/index/rows.js';
import { readSidecar } from '../../adapters/sidecar-store.adapter.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import { AliceError, ErrorCode, errnoCode } from '../../domain/errors.js';
import { isProjectExportPath } from '../../domain/project.js';
import type { Sidecar } from '../../domain/sidecar.js';

export interface ResolvedRef {
  /** The asset hash (an alias resolves to its asset). Undefined for content alice has never seen. */
  contentHash: string | undefined;
  byteHash: string;
  /** Set when the reference was a path. */
  path?: string;
  indexed: boolean;
}

export interface AssetRecord {
  content_hash: string;
  indexed: boolean;
  index: AssetRow | null;
  locations: LocationRow[];
  aliases: string[];
  tags: TagRow[];
  sidecar: Sidecar | null;
  sidecar_path: string | null;
  /** Why the content is damaged (does not decode completely, or is not what its name says); null when sound. */
  damage: string | null;
  /** Locations under a project's `exports/`: delivered copies alice never rewrites. */
  export_copies: string[];
}

export class AssetsService {
  constructor(private readonly deps: { repo: AssetRepository; roots: readonly RootConfig[] }) {}

  /** Resolves a content hash, a unique hash prefix (≥ 8 hex) or a file path. */
  async resolve(ref: string, opts: { cwd?: string; confineToRoots?: boolean } = {}): Promise<ResolvedRef> {
    const { repo } = this.deps;
    const lower = ref.toLowerCase();
    if (/^[0-9a-f]{64}$/.test(lower)) {
      const asset = await repo.resolveHash(lower);
      return { contentHash: asset ?? lower, byteHash: lower, indexed: asset !== undefined };
    }
    if (/^[0-9a-f]{8,63}$/.test(lower)) {
      const matches = await repo.resolvePrefix(lower);
      if (matches.length === 1 && matches[0] !== undefined)
        return { contentHash: matches[0], byteHash: matches[0], indexed: true };
      if (matches.length > 1)
        throw new AliceError(ErrorCode.INVALID_INPUT, `hash prefix ${ref} is ambiguous`, {
          hint: 'give more hex digits',
        });
    }
    const prefix = /^[0-9a-f]{8,63}$/.test(lower) ? lower : undefined;
    return this.resolvePath(
      path.resolve(opts.cwd ?? process.cwd(), ref),
      opts.confineToRoots ?? false,
      prefix,
    );
  }

  /** `prefix`: the ref also looked like a hash prefix, and no asset has it. */
  private async resolvePath(file: string, confine: boolean, prefix?: string): Promise<ResolvedRef> {
    if (confine && !this.deps.roots.some((r) => isInside(file, r.path))) {
      throw new AliceError(ErrorCode.OUTSIDE_ROOTS, `path is outside the configured roots: ${file}`, {
        hint: 'only files below storage.asset_paths or storage.project_paths can be used here',
      });
    }
    const loc = await this.deps.repo.location(file);
    let byteHash: string;
    try {
      const st = await fs.stat(file);
      if (loc?.present === true && loc.size === st.size && loc.mtime_ms === st.mtimeMs) {
        return { contentHash: loc.content_hash, byteHash: loc.byte_hash, path: file, indexed: true };
      }
      byteHash = (await sha256File(file)).hash;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        const what =
          prefix === undefined
            ? `no such file, and not a content hash: ${file}`
            : `no asset's content hash starts with ${prefix}, and there is no file ${file}`;
        throw new AliceError(ErrorCode.NOT_FOUND, what, {
          hint: 'give a path to a file, a 64-hex content hash or a unique prefix of at least 8 hex digits (as `alice search` prints)',
        });
      }
      throw err;
    }
    const asset = await this.deps.repo.resolveHash(byteHash);
    return { contentHash: asset ?? byteHash, byteHash, path: file, indexed: asset !== undefined };
  }

  /** Reads the sidecar of an asset from the first online root that holds it. */
  async sidecarOf(
    hash: string,
    preferRoots: readonly string[] = [],
  ): Promise<{ sidecar: Sidecar; file: string } | null> {
    const order = [
      ...preferRoots,
      ...this.deps.roots.map((r) => r.path).filter((r) => !preferRoots.includes(r)),
    ];
    for (const root of order) {
      const res = await readSidecar(root, hash);
      if (res.status === 'ok') return { sidecar: res.sidecar, file: res.file };
    }
    return null;
  }

  async record(ref: string, cwd?: string): Promise<AssetRecord> {
    const r = await this.resolve(ref, cwd === undefined ? {} : { cwd });
    if (r.contentHash === undefined || !r.indexed) {
      throw new AliceError(
        ErrorCode.NOT_FOUND,
        `not in the library: ${ref}${r.path === undefined ? '' : ` (content ${r.byteHash.slice(0, 12)}…)`}`,
        {
          hint: 'run `alice index update` if the file is inside a configured root',
        },
      );
    }
    const hash = r.contentHash;
    const { repo } = this.deps;
    const locations = await repo.locationsOf(hash);
    const sc = await this.sidecarOf(hash, [...new Set(locations.map((l) => l.root))]);
    const index = (await repo.getAsset(hash)) ?? null;
    const projectRoots = this.deps.roots.filter((x) => x.kind === 'project').map((x) => x.path);
    return {
      content_hash: hash,
      indexed: true,
      index,
      damage: index?.damage ?? sc?.sidecar.damage ?? null,
      export_copies: locations.filter((l) => isProjectExportPath(l.path, projectRoots)).map((l) => l.path),
      locations,
      aliases: await repo.aliasesOf(hash),
      tags: await repo.tagsOf(hash),
      sidecar: sc?.sidecar ?? null,
      sidecar_path: sc?.file ?? null,
    };
  }
}
