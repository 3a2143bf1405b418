/**
 * What a vision model is shown: a downscaled JPEG of an image, or of a few frames of a video
 * (at 10 %, 50 % and 90 % of its duration; ffmpeg needed). Audio has no picture.
 */
import { IMAGE_MAX_SIDE } from '../domain/understanding.js';
import type { VisionImages } from '../ports.js';
import { extractFrame, hasFfmpeg, probeVideo, FFMPEG_NOT_FOUND } from './ffmpeg.adapter.js';
import { visionJpeg } from './sharp.adapter.js';

export const VIDEO_FRAME_POINTS: readonly number[] = [0.1, 0.5, 0.9];

export const visionImages: VisionImages = async (file, mediaType) => {
  if (mediaType === 'audio') return { ok: false, reason: 'audio has no picture to understand' };
  if (mediaType === 'image') {
    const r = await visionJpeg(file, IMAGE_MAX_SIDE);
    return r.ok ? { ok: true, jpegs: [r.data] } : { ok: false, reason: r.reason };
  }
  if (!(await hasFfmpeg()))
    return { ok: false, reason: FFMPEG_NOT_FOUND.replace('no perceptual hash', 'no frames') };
  const probe = await probeVideo(file);
  if (!probe.ok) return { ok: false, reason: probe.reason };
  const jpegs: Buffer[] = [];
  for (const at of VIDEO_FRAME_POINTS) {
    const frame = await extractFrame(file, at, undefined, probe.duration);
    if (!frame.ok) continue;
    const j = await visionJpeg(frame.png, IMAGE_MAX_SIDE);
    if (j.ok) jpegs.push(j.data);
  }
  return jpegs.length > 0 ? { ok: true, jpegs } : { ok: false, reason: 'ffmpeg produced no frame' };
};
