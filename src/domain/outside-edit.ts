/**
 * Merging what another program changed in a file alice knows: the rule of
 * docs/embedded-metadata.md ("Changes made by other programs"). Pure: no I/O.
 */
import { HASH_RE, type Sidecar, type TagSource } from './sidecar.js';
import { flattenTags, groupTags, tagKey, type Tag } from './tags.js';

const FILE_SOURCE = 'file:';

function isFileSource(source: TagSource | undefined): boolean {
  return source?.startsWith(FILE_SOURCE) === true;
}

/**
 * May tags alice embedded, and a description it embedded, be dropped because the file no longer
 * holds them? Only when alice had embedded them (`written`/`current`), the file's bytes are not
 * what alice left (another program rewrote it) and the file still carries `XMP-alice:ContentHash`
 * (the program kept XMP and edited the keywords, rather than stripping all metadata).
 */
export function outsideEditRemoves(previous: Sidecar, fileByteHash: string, fileAliceHash: unknown): boolean {
  const e = previous.embedding;
  if (e === undefined || (e.state !== 'written' && e.state !== 'current')) return false;
  if (e.hash === fileByteHash) return false;
  return typeof fileAliceHash === 'string' && HASH_RE.test(fileAliceHash);
}

interface Merged {
  tags: Tag[];
  sources: Record<string, TagSource>;
}

function mergeTags(fresh: Sidecar, previous: Sidecar, removes: boolean): Merged {
  const freshSources = fresh.analysis.understanding.tag_sources ?? {};
  const prevSources = previous.analysis.understanding.tag_sources ?? {};
  const freshTags = flattenTags(fresh.analysis.understanding.tags);
  const inFile = new Set(freshTags.filter((t) => isFileSource(freshSources[tagKey(t)])).map(tagKey));
  const tags: Tag[] = [];
  const sources: Record<string, TagSource> = {};
  for (const t of flattenTags(previous.analysis.understanding.tags)) {
    const key = tagKey(t);
    const source = prevSources[key] ?? 'user';
    if (!inFile.has(key) && (isFileSource(source) || removes)) continue;
    tags.push(t);
    // A tag still read from the file keeps its owner (the user's stays the user's).
    sources[key] = isFileSource(source) ? (freshSources[key] ?? source) : source;
  }
  for (const t of freshTags) {
    const key = tagKey(t);
    if (key in sources) continue;
    tags.push(t);
    sources[key] = freshSources[key] ?? 'user';
  }
  return { tags, sources };
}

function mergeDescription(fileDesc: string | null, prevDesc: string | null, removes: boolean): string | null {
  if (prevDesc === null || prevDesc.trim() === '') return fileDesc;
  if (fileDesc === prevDesc) return prevDesc;
  return removes ? fileDesc : prevDesc;
}

/**
 * The sidecar of an asset made when another program edited a file in place (new bytes, not an
 * alias): `fresh` is built from the edited file (its tags read with `file:` sources, its
 * `embedded_metadata.alice_content_hash`), `previous` is the asset it replaces. It carries
 * the old asset's tags and description over and applies the removal rule:
 *
 * - tags added in the file are kept with their `file:` source;
 * - tags whose source is `file:*` and that the file no longer holds are dropped;
 * - tags alice embedded (any other source) that the file no longer holds are dropped only when
 *   {@link outsideEditRemoves}; otherwise they stay and the next `alice embed` writes them back;
 * - a description the other program changed or removed replaces the sidecar's under the same rule.
 */
export function mergeOutsideEdit(fresh: Sidecar, previous: Sidecar, fileByteHash: string): Sidecar {
  const removes = outsideEditRemoves(previous, fileByteHash, fresh.embedded_metadata?.['alice_content_hash']);
  const { tags, sources } = mergeTags(fresh, previous, removes);
  const fu = fresh.analysis.understanding;
  const pu = previous.analysis.understanding;
  return {
    ...fresh,
    derived_from: previous.content_hash,
    analysis: {
      ...fresh.analysis,
      understanding: {
        ...fu,
        tags: groupTags(tags),
        tag_sources: sources,
        description: mergeDescription(fu.description ?? null, pu.description ?? null, removes),
      },
    },
  };
}

function same(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && a !== '' && a === b;
}

/**
 * Is a file that another program rewrote in place still the same asset? Yes when it carries
 * alice's `XMP-alice:ContentHash` naming the previous asset (the program kept alice's marker and
 * changed metadata), or when its coded image data hash to the previous content's (`image_hash`),
 * or its decoded pixels do (`pixel_hash`, for formats without an image hash and older sidecars):
 * a metadata-only change by a program that knows nothing of alice. Not the perceptual hash, which
 * near-duplicates share: only identical pixels count.
 */
export function sameAssetAfterEdit(fresh: Sidecar, previous: Sidecar): boolean {
  const marker = fresh.embedded_metadata?.['alice_content_hash'];
  if (typeof marker === 'string' && marker.toLowerCase() === previous.content_hash) return true;
  return same(fresh.image_hash, previous.image_hash) || same(fresh.pixel_hash, previous.pixel_hash);
}

/**
 * Must the edited file's pixels be decoded to answer {@link sameAssetAfterEdit}? Only when the
 * previous sidecar records a pixel hash and no image hash (written before image hashes) and the
 * fresh analysis has no pixel hash: then only a pixel hash can match.
 */
export function needsPixelHash(fresh: Sidecar, previous: Sidecar): boolean {
  return (
    typeof previous.pixel_hash === 'string' &&
    previous.image_hash === undefined &&
    fresh.pixel_hash === undefined
  );
}

/**
 * The previous asset's sidecar after an in-place metadata edit that kept its identity (see
 * {@link sameAssetAfterEdit}): tags and description merged as for {@link mergeOutsideEdit}, the
 * file's new bytes recorded as an alias; content hash, first sight, selections and history stay.
 */
export function keepIdentityAfterEdit(fresh: Sidecar, previous: Sidecar, fileByteHash: string): Sidecar {
  const merged = mergeOutsideEdit(fresh, previous, fileByteHash);
  const aliases = [...new Set([...(previous.aliases ?? []), fileByteHash])].filter(
    (h) => h !== previous.content_hash,
  );
  const out: Sidecar = {
    ...previous,
    analysis: { ...previous.analysis, understanding: merged.analysis.understanding },
    aliases,
  };
  if (fresh.embedded_metadata !== undefined) out.embedded_metadata = fresh.embedded_metadata;
  if (out.image_hash === undefined && fresh.image_hash !== undefined) out.image_hash = fresh.image_hash;
  if (out.pixel_hash === undefined && fresh.pixel_hash !== undefined) out.pixel_hash = fresh.pixel_hash;
  return out;
}
