/**
 * The agent hashes a settled batch while the one before is indexed; the pass then takes those
 * hashes only for files whose size, mtime and inode are still the ones hashed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File, type HashResult } from '../../src/adapters/hash.adapter.js';
import { mediaInfoFor } from '../../src/domain/media.js';
import { NO_PROGRESS } from '../../src/ports.js';
import { hashFiles, type SeenFile } from '../../src/services/scan/scan-collect.js';
import { makeWorkspace, sha256Of, type Workspace } from '../helpers/fixtures.js';

let ws: Workspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

function seen(w: Workspace, file: string): SeenFile {
  const st = fs.statSync(file);
  const media = mediaInfoFor(file);
  if (media === undefined) throw new Error('media');
  const root = w.roots[0] as string;
  return {
    path: file,
    root: { path: root, kind: 'asset', isDefault: false },
    rel: path.relative(root, file),
    media,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    prev: undefined,
    hadRow: false,
  };
}

describe('hashes taken while settling', () => {
  it('are used while the file is unchanged, and not once it changed', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const same = path.join(root, 'same.png');
    const edited = path.join(root, 'edited.png');
    fs.writeFileSync(same, 'first bytes');
    fs.writeFileSync(edited, 'first bytes too');
    const known = new Map<string, HashResult>();
    for (const f of [same, edited]) known.set(f, await sha256File(f));
    // A marker hash shows which files were not read again.
    known.set(same, { ...(known.get(same) as HashResult), hash: 'f'.repeat(64) });
    known.set(edited, { ...(known.get(edited) as HashResult), hash: 'e'.repeat(64) });
    fs.writeFileSync(edited, 'new bytes, new size');

    const out = await hashFiles([seen(ws, same), seen(ws, edited)], 2, NO_PROGRESS, [], known);
    expect(out.map((f) => f.byteHash)).toEqual(['f'.repeat(64), sha256Of(edited)]);
  });
});
