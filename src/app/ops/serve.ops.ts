/**
 * Operations the web page needs beyond the CLI's: `asset.locate`, the cheap lookup behind every
 * thumbnail and file request (is this hash an indexed asset, and where is a present copy?).
 */
import { z } from 'zod';
import { op } from './op.js';

/** An indexed asset's media facts and its present copies; null when the hash is not indexed. */
export interface LocatedAsset {
  content_hash: string;
  media_type: string;
  format: string | null;
  mime: string | null;
  /** Present copies, first the primary path. */
  paths: string[];
}

export const SERVE_OPS = {
  'asset.locate': op(
    z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex content hash') }),
    false,
    async (ctx, p): Promise<LocatedAsset | null> => {
      const repo = await ctx.container.repo();
      const asset = await repo.getAsset(p.hash);
      if (asset === undefined) return null;
      const present = (await repo.locationsOf(p.hash)).filter((l) => l.present).map((l) => l.path);
      const primary = asset.file_path !== null && present.includes(asset.file_path) ? [asset.file_path] : [];
      return {
        content_hash: asset.content_hash,
        media_type: asset.media_type,
        format: asset.format,
        mime: asset.mime,
        paths: [...primary, ...present.filter((x) => !primary.includes(x))],
      };
    },
  ),
};
