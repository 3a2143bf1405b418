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
