/** Operations of `alice tag add|remove|set`, `alice describe` and `alice embed`. */
import { z } from 'zod';
import { probeVideo } from '../../adapters/ffmpeg.adapter.js';
import { decodeCheck } from '../../adapters/sharp.adapter.js';
import { TagMode } from '../../domain/tag-edit.js';
import { EmbedService, type DecodeCheck } from '../../services/tagging/embed.service.js';
import { SYSTEM_CLOCK } from '../../ports.js';
import { TagService } from '../../services/tagging/tag.service.js';
import type { Container } from '../container.js';
import { op, type OpContext } from './op.js';

/** Formats sharp decodes completely (HEIC/HEIF need HEVC, which sharp's libvips lacks). */
const SHARP_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff']);
const VIDEO_FORMATS: ReadonlySet<string> = new Set(['mp4', 'mov', 'm4v']);

const imageCheck: DecodeCheck = async (file) => {
  const r = await decodeCheck(file);
  return r.ok ? true : r.reason;
};

/** Video: the container must still parse (ffprobe); without ffmpeg only exiftool's read-back checks it. */
const videoCheck: DecodeCheck = async (file) => {
  const r = await probeVideo(file);
  return r.ok || r.kind === 'unavailable' ? true : r.reason;
};

function decodeCheckFor(format: string): DecodeCheck | undefined {
  if (SHARP_FORMATS.has(format)) return imageCheck;
  if (VIDEO_FORMATS.has(format)) return videoCheck;
  return undefined;
}

async function tagService(container: Container): Promise<TagService> {
  const exif = container.exif;
  if (exif === undefined) throw new Error('tag operations need the exiftool adapter (createContainer)');
  const repo = await container.repo();
  const embed = new EmbedService({
    roots: container.config.roots,
    repo,
    exif,
    settings: container.config.settings.embedding,
    decodeCheckFor,
    events: container.events,
    clock: SYSTEM_CLOCK,
    logger: container.logger,
  });
  return new TagService({
    assets: await container.assetsService(),
    embed,
    events: container.events,
    clock: SYSTEM_CLOCK,
  });
}

function caller(ctx: OpContext): { cwd: string; remote: boolean } {
  return { cwd: ctx.cwd, remote: ctx.remote };
}

const refs = z.array(z.string().min(1)).min(1);
const tags = z.array(z.string());

function tagOp(mode: TagMode) {
  return op(z.object({ refs, tags }), true, async (ctx, p) =>
    (await tagService(ctx.container)).changeTags(p.refs, mode, p.tags, caller(ctx)),
  );
}

export const TAG_OPS = {
  'tag.add': tagOp(TagMode.ADD),
  'tag.remove': tagOp(TagMode.REMOVE),
  'tag.set': tagOp(TagMode.SET),
  'asset.describe': op(z.object({ ref: z.string().min(1), text: z.string() }), true, async (ctx, p) =>
    (await tagService(ctx.container)).describe(p.ref, p.text, caller(ctx)),
  ),
  'metadata.embed': op(
    z.object({
      refs: z.array(z.string().min(1)).default([]),
      all: z.boolean().default(false),
      dryRun: z.boolean().default(false),
    }),
    true,
    async (ctx, p) => (await tagService(ctx.container)).embed(p.refs, p.all, p.dryRun, caller(ctx)),
  ),
};
