/**
 * Which copy to keep in a group of duplicates, and why. alice only suggests: it never deletes.
 * Pure: no I/O.
 */

/** One asset of a near-duplicate group, as far as choosing a keeper needs. */
export interface KeeperCandidate {
  readonly id: string;
  readonly width: number | null;
  readonly height: number | null;
  /** Container format (`jpeg`, `png`, `webp`, …); null when unknown. */
  readonly format: string | null;
  /** Bytes on disk. */
  readonly fileSize: number;
  readonly tagCount: number;
  readonly hasPrompt: boolean;
  readonly hasDescription: boolean;
  /** ISO date-time; null sorts last. */
  readonly firstSeen: string | null;
}

export interface KeeperChoice {
  readonly keeper: string;
  readonly reason: string;
}

function pixels(c: KeeperCandidate): number {
  return (c.width ?? 0) * (c.height ?? 0);
}

/** Tags, a prompt and a description each count as metadata; more is richer. */
export function metadataScore(c: KeeperCandidate): number {
  return c.tagCount + (c.hasPrompt ? 1 : 0) + (c.hasDescription ? 1 : 0);
}

function seenRank(c: KeeperCandidate): number {
  const ms = c.firstSeen === null ? NaN : Date.parse(c.firstSeen);
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
}

/** Formats whose pixels are stored without loss (WebP and HEIF can be either: counted lossy). */
const LOSSLESS_FORMATS = new Set(['png', 'tiff', 'tif', 'bmp', 'gif', 'ppm', 'pgm', 'pbm', 'qoi', 'exr']);

/** 1 for a lossless container, 0 for a lossy or unknown one. */
export function losslessRank(c: KeeperCandidate): number {
  return c.format !== null && LOSSLESS_FORMATS.has(c.format.toLowerCase()) ? 1 : 0;
}

function sameFormat(a: KeeperCandidate, b: KeeperCandidate): boolean {
  return a.format !== null && b.format !== null && a.format.toLowerCase() === b.format.toLowerCase();
}

/** Larger file first, only between two files of the same format (less compression, same codec). */
function sizeOrder(a: KeeperCandidate, b: KeeperCandidate): number {
  return sameFormat(a, b) ? b.fileSize - a.fileSize : 0;
}

function compare(a: KeeperCandidate, b: KeeperCandidate): number {
  return (
    pixels(b) - pixels(a) ||
    losslessRank(b) - losslessRank(a) ||
    sizeOrder(a, b) ||
    metadataScore(b) - metadataScore(a) ||
    seenRank(a) - seenRank(b) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function size(c: KeeperCandidate): string {
  return c.width === null || c.height === null ? 'unknown size' : `${c.width}×${c.height}`;
}

function metadataText(c: KeeperCandidate): string {
  const parts = [`${c.tagCount} tag${c.tagCount === 1 ? '' : 's'}`];
  if (c.hasPrompt) parts.push('prompt');
  if (c.hasDescription) parts.push('description');
  return parts.join(', ');
}

function formatName(c: KeeperCandidate): string {
  return c.format ?? 'unknown format';
}

/** The rule that put `best` before `next`, in words (the same order as {@link compare}). */
function reasonFor(best: KeeperCandidate, next: KeeperCandidate | undefined): string {
  if (next === undefined) return 'only member';
  if (pixels(best) !== pixels(next)) return `largest resolution: ${size(best)} (next ${size(next)})`;
  if (losslessRank(best) !== losslessRank(next)) {
    return `same resolution; lossless over lossy: ${formatName(best)} (next ${formatName(next)})`;
  }
  if (sizeOrder(best, next) !== 0) {
    return `same resolution and format (${formatName(best)}); larger file, less compressed: ${best.fileSize} bytes (next ${next.fileSize})`;
  }
  if (metadataScore(best) !== metadataScore(next)) {
    return `same resolution and encoding; richest metadata: ${metadataText(best)} (next ${metadataText(next)})`;
  }
  if (seenRank(best) !== seenRank(next)) {
    return `same resolution, encoding and metadata; seen first: ${best.firstSeen ?? '?'} (next ${next.firstSeen ?? 'never'})`;
  }
  return 'identical on resolution, encoding, metadata and first-seen date; first by content hash';
}

/**
 * Suggests the keeper a photographer would: the highest resolution, then lossless over lossy, then
 * the larger file of the same format (less compression), then the richest metadata (tags + prompt
 * + description), then the one seen first, then the smallest id so the choice is stable. The
 * reason names the rule that separated the keeper from the runner-up.
 */
export function chooseKeeper(candidates: readonly KeeperCandidate[]): KeeperChoice {
  const sorted = [...candidates].sort(compare);
  const best = sorted[0];
  if (best === undefined) throw new Error('chooseKeeper needs at least one candidate');
  return { keeper: best.id, reason: reasonFor(best, sorted[1]) };
}

/** One path of an exact-duplicate group (identical bytes). */
export interface CopyCandidate {
  readonly path: string;
  readonly firstSeen: string | null;
}

/**
 * Among byte-identical copies the content is the same, so keep the copy alice saw first (the
 * original; later ones are usually copies), then the shortest path, then alphabetical.
 */
export function chooseKeeperCopy(copies: readonly CopyCandidate[]): KeeperChoice {
  const rank = (c: CopyCandidate): number => {
    const ms = c.firstSeen === null ? NaN : Date.parse(c.firstSeen);
    return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
  };
  const sorted = [...copies].sort(
    (a, b) =>
      rank(a) - rank(b) || a.path.length - b.path.length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  const best = sorted[0];
  const next = sorted[1];
  if (best === undefined) throw new Error('chooseKeeperCopy needs at least one copy');
  let reason = 'only copy';
  if (next !== undefined) {
    reason =
      rank(best) !== rank(next)
        ? `identical bytes; the copy seen first (${best.firstSeen ?? '?'})`
        : best.path.length !== next.path.length
          ? 'identical bytes, seen together; the shortest path'
          : 'identical bytes, seen together; first path alphabetically';
  }
  return { keeper: best.path, reason };
}
