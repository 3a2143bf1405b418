/** Checks and hashes over media files (sharp, ffprobe) that services take as functions. */
import { probeVideo } from '../adapters/ffmpeg.adapter.js';
import { analyseImage, decodeCheck } from '../adapters/sharp.adapter.js';
import type { ImageHasher } from '../services/search/search.service.js';
import type { DecodeCheck } from '../services/tagging/embed.service.js';

/** Perceptual hashes of a file that is not in the index (sharp, one decode). */
export const hashImageFile: ImageHasher = async (file) => {
  const res = await analyseImage(file);
  return res.ok ? { ok: true, hashes: res.hashes } : { ok: false, reason: res.reason };
};

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

/** How an embed checks that a rewritten file of `format` still decodes (none for other formats). */
export function decodeCheckFor(format: string): DecodeCheck | undefined {
  if (SHARP_FORMATS.has(format)) return imageCheck;
  if (VIDEO_FORMATS.has(format)) return videoCheck;
  return undefined;
}
