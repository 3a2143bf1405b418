/** The `manifest.json` written with every project export. Pure. */
import type { Selection } from './project.js';

export const MANIFEST_VERSION = 1;

/** One exported file. */
export interface ManifestEntry {
  /** Path relative to the export folder, with `/` separators (`selected/a.png`). */
  path: string;
  /** `selected` (curated from the library) or `created` (made for the project). */
  kind: 'selected' | 'created';
  /** SHA-256 of the exported file's bytes. */
  content_hash: string;
  /** The library asset it belongs to (differs from content_hash when the bytes are an alias). */
  asset_hash: string;
  /** False when the library index does not know this content. */
  indexed: boolean;
  size: number;
  /** `category:value` strings. */
  tags: string[];
  prompt: string | null;
  /** Why it was selected (selected files only). */
  reason: string | null;
  role: string | null;
  /** Where the file was when it was selected. */
  source_path: string | null;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  project: { name: string; description: string };
  exported_at: string;
  files: ManifestEntry[];
}

/** Facts gathered about one exported file before the manifest is assembled. */
export interface ExportedFile {
  path: string;
  kind: 'selected' | 'created';
  sha256: string;
  size: number;
  assetHash: string | undefined;
  tags: readonly string[];
  prompt: string | null;
}

/** The selection a file in `selected/` stands for (same content; its name breaks ties). */
export function selectionFor(file: ExportedFile, selections: readonly Selection[]): Selection | undefined {
  if (file.kind !== 'selected') return undefined;
  const name = file.path.split('/').pop();
  const same = (s: Selection): boolean => s.content_hash === file.assetHash || s.content_hash === file.sha256;
  // The name decides between two selections of the same content; content always has to match,
  // so a file replaced by other bytes under a selected name is not credited with its reason.
  return selections.find((s) => same(s) && s.file_name === name) ?? selections.find(same);
}

export function buildManifest(
  project: { name: string; description: string },
  exportedAt: Date,
  files: readonly ExportedFile[],
  selections: readonly Selection[],
): Manifest {
  const entries = files.map((f): ManifestEntry => {
    const sel = selectionFor(f, selections);
    return {
      path: f.path,
      kind: f.kind,
      content_hash: f.sha256,
      asset_hash: f.assetHash ?? sel?.content_hash ?? f.sha256,
      indexed: f.assetHash !== undefined,
      size: f.size,
      tags: [...f.tags].sort(),
      prompt: f.prompt,
      reason: sel?.reason ?? null,
      role: sel?.role ?? null,
      source_path: sel?.source_path ?? null,
    };
  });
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    version: MANIFEST_VERSION,
    project: { name: project.name, description: project.description },
    exported_at: exportedAt.toISOString(),
    files: entries,
  };
}
