/**
 * TagService and EmbedService in-process, with the real exiftool adapter, a real index and a
 * recording event sink: events, the guard against files changed since the last scan, and
 * descriptions cleared from the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExiftoolAdapter } from '../../src/adapters/exiftool.adapter.js';
import { decodeCheck } from '../../src/adapters/sharp.adapter.js';
import type { Container } from '../../src/app/container.js';
import { DEFAULT_EMBEDDING_SETTINGS } from '../../src/domain/embed-plan.js';
import { EmbedService } from '../../src/services/tagging/embed.service.js';
import { NO_LOG, SYSTEM_CLOCK, type EventSink } from '../../src/ports.js';
import { parseTags, TagService } from '../../src/services/tagging/tag.service.js';
import { makeWorkspace, sha256sum, snapshotTree, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson, update, withContainer } from '../helpers/library.js';
import { asList, outsideRead, outsideWrite } from './helpers.js';

const exif = new ExiftoolAdapter();
let ws: Workspace;
let lib: string;
const events: { type: string; payload: Record<string, unknown> }[] = [];
const sink: EventSink = { emit: (type, payload) => events.push({ type, payload: { ...payload } }) };
const caller = { cwd: '/', remote: false };

function services(
  c: Container,
  repo: Awaited<ReturnType<Container['repo']>>,
  assets: Awaited<ReturnType<Container['assetsService']>>,
): TagService {
  const embed = new EmbedService({
    roots: c.config.roots,
    repo,
    exif,
    settings: DEFAULT_EMBEDDING_SETTINGS,
    decodeCheckFor: () => async (file) => ((await decodeCheck(file)).ok ? true : 'no decode'),
    events: sink,
    clock: SYSTEM_CLOCK,
    logger: NO_LOG,
  });
  return new TagService({ assets, embed, events: sink, clock: SYSTEM_CLOCK });
}

function withTags<T>(fn: (t: TagService) => Promise<T>): Promise<T> {
  return withContainer(ws, async (c) => fn(services(c, await c.repo(), await c.assetsService())));
}

beforeAll(async () => {
  await exif.start();
  ws = makeWorkspace();
  lib = ws.roots[0] as string;
  await writeImage(path.join(lib, 'a.jpg'), { seed: 41 });
  await writeImage(path.join(lib, 'b.jpg'), { seed: 42 });
  await update(ws);
});

afterAll(async () => {
  await exif.close();
  ws.cleanup();
});

describe('TagService', () => {
  it('emits asset.tagged with the delta and metadata.embedded per written file', async () => {
    const file = path.join(lib, 'a.jpg');
    const hash = sha256sum(file);
    events.length = 0;
    const r = await withTags((t) => t.changeTags([file], 'add', ['style:noir', 'cat'], caller));
    expect(r.assets[0]?.files[0]?.status).toBe('written');
    expect(events.map((e) => e.type)).toEqual(['asset.tagged', 'metadata.embedded']);
    expect(events[0]?.payload).toMatchObject({
      content_hash: hash,
      path: file,
      root: lib,
      added: ['style:noir', 'keywords:cat'],
      removed: [],
    });
    expect(events[1]?.payload).toMatchObject({
      content_hash: hash,
      path: file,
      state: 'written',
      changes: ['tags'],
    });
  });

  it('adding tags the asset already has changes nothing and rewrites nothing', async () => {
    const file = path.join(lib, 'a.jpg');
    const before = sha256sum(file);
    events.length = 0;
    const r = await withTags((t) => t.changeTags([file], 'add', ['CAT'], caller));
    expect(r.assets[0]).toMatchObject({ changed: false, added: [] });
    expect(r.assets[0]?.files[0]?.status).toBe('current');
    expect(sha256sum(file)).toBe(before);
    expect(events).toEqual([]);
  });

  it('describe "" removes the description from the file', async () => {
    const file = path.join(lib, 'a.jpg');
    await withTags((t) => t.describe(file, 'words', caller));
    expect((await outsideRead(file))['XMP-dc:Description']).toBe('words');
    const r = await withTags((t) => t.describe(file, '  ', caller));
    expect(r.assets[0]?.description).toBeNull();
    const t = await outsideRead(file);
    expect(t['XMP-dc:Description']).toBeUndefined();
    expect(t['IFD0:ImageDescription']).toBeUndefined();
    expect(asList(t['XMP-dc:Subject']).sort()).toEqual(['cat', 'noir']);
  });

  it('does not overwrite a file another program changed since the last scan', async () => {
    const file = path.join(lib, 'b.jpg');
    const hash = sha256sum(file);
    await outsideWrite(file, '-XMP-dc:Subject=lightroom-keyword');
    const edited = fs.readFileSync(file);
    const r = await withTags((t) => t.changeTags([hash], 'add', ['mine'], caller));
    expect(r.failed).toBe(1);
    expect(r.assets[0]?.files[0]?.reason).toMatch(/index update/);
    expect(fs.readFileSync(file).equals(edited)).toBe(true);
    expect(readSidecarJson(lib, hash).embedding).toMatchObject({ state: 'failed' });
    // The user's tag is kept in the sidecar all the same.
    expect(readSidecarJson(lib, hash).analysis.understanding.tags).toEqual({ keywords: ['mine'] });
  });

  it('refuses unknown references and empty tags before changing anything', async () => {
    await expect(
      withTags((t) => t.changeTags([path.join(lib, 'nope.jpg')], 'add', ['x'], caller)),
    ).rejects.toThrow(/no such file/);
    await expect(
      withTags((t) => t.changeTags([path.join(lib, 'a.jpg')], 'add', ['  '], caller)),
    ).rejects.toThrow(/empty tag/);
  });

  it('refuses a category with no value (style:) instead of adding the keyword "style:"', async () => {
    const file = path.join(lib, 'a.jpg');
    const before = snapshotTree(lib);
    for (const bad of ['style:', ' Style : ', 'art-style:']) {
      await expect(withTags((t) => t.changeTags([file], 'add', ['ok', bad], caller))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('has no value after its category') as unknown,
      });
    }
    expect(snapshotTree(lib)).toEqual(before);
    // A colon inside a value, or a leading one, is still kept exactly.
    expect(parseTags(['note: see: here', ':x', 'a:b:'])).toEqual([
      { category: 'note', value: 'see: here' },
      { category: 'keywords', value: ':x' },
      { category: 'a', value: 'b:' },
    ]);
  });
});
