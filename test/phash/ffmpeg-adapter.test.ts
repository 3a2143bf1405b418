import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyseVideoFrame,
  extractFrame,
  FFMPEG_NOT_FOUND,
  hasFfmpeg,
  parseProbe,
  probeVideo,
} from '../../src/adapters/ffmpeg.adapter.js';
import { analyseImage } from '../../src/adapters/sharp.adapter.js';
import { hammingHex, isPerceptualHex } from '../../src/domain/perceptual-hash.js';

const ffmpegPresent =
  spawnSync('ffmpeg', ['-version']).status === 0 && spawnSync('ffprobe', ['-version']).status === 0;
if (!ffmpegPresent)
  console.warn('test/phash/ffmpeg-adapter: ffmpeg/ffprobe not on PATH, video tests skipped');

describe('parseProbe', () => {
  it('reads size, duration and codec, and swaps sides for 90° rotation', () => {
    const json = JSON.stringify({
      streams: [{ codec_name: 'h264', width: 1920, height: 1080, side_data_list: [{ rotation: -90 }] }],
      format: { duration: '3.500000' },
    });
    expect(parseProbe(json)).toEqual({ duration: 3.5, width: 1080, height: 1920, codec: 'h264' });
    expect(
      parseProbe(JSON.stringify({ streams: [{ width: 64, height: 48, tags: { rotate: '180' } }] })),
    ).toEqual({
      duration: null,
      width: 64,
      height: 48,
      codec: null,
    });
    expect(parseProbe(JSON.stringify({ streams: [] }))).toBeNull();
    expect(parseProbe('not json')).toBeNull();
  });
});

describe('without ffmpeg', () => {
  it('reports the missing tool as an expected outcome', async () => {
    const opts = { ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: '/nonexistent/ffprobe' };
    expect(await hasFfmpeg(opts)).toBe(false);
    expect(await analyseVideoFrame('/tmp/whatever.mp4', { ffmpeg: opts })).toEqual({
      ok: false,
      kind: 'unavailable',
      reason: FFMPEG_NOT_FOUND,
    });
    expect(await probeVideo('/tmp/whatever.mp4', opts)).toMatchObject({ ok: false, kind: 'unavailable' });
  });
});

describe.skipIf(!ffmpegPresent)('with ffmpeg (skipped when ffmpeg is not on PATH)', () => {
  let dir: string;
  let video: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alice-ffmpeg-'));
    video = join(dir, 'clip.mp4');
    const args = [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=duration=1:size=320x240:rate=10',
      '-pix_fmt',
      'yuv420p',
      video,
    ];
    const made = spawnSync('ffmpeg', args);
    if (made.status !== 0) throw new Error(`could not make test video: ${String(made.stderr)}`);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hasFfmpeg is true', async () => {
    expect(await hasFfmpeg()).toBe(true);
  });

  it('probes duration and size', async () => {
    const probe = await probeVideo(video);
    expect(probe).toMatchObject({ ok: true, width: 320, height: 240, codec: 'h264' });
    if (probe.ok) expect(probe.duration).toBeCloseTo(1, 1);
  });

  it('extracts one PNG frame at a fraction of the duration', async () => {
    const frame = await extractFrame(video, 0.5);
    expect(frame.ok).toBe(true);
    if (!frame.ok) return;
    expect([...frame.png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(frame.at).toBeCloseTo(0.5, 1);
    expect(await analyseImage(frame.png)).toMatchObject({ ok: true, width: 320, height: 240, format: 'png' });
  });

  it('bounds the frame size', async () => {
    const frame = await extractFrame(video, 0.1, { frameMaxSize: 64 });
    expect(frame.ok).toBe(true);
    if (frame.ok) expect(await analyseImage(frame.png)).toMatchObject({ width: 64, height: 48 });
  });

  it('hashes the frame like an image, and frames of the same clip are close', async () => {
    const first = await analyseVideoFrame(video, { atFraction: 0 });
    const tenth = await analyseVideoFrame(video);
    expect(tenth).toMatchObject({ ok: true, width: 320, height: 240 });
    if (!first.ok || !tenth.ok) throw new Error('expected both frames');
    expect(isPerceptualHex(tenth.hashes.phash)).toBe(true);
    expect(hammingHex(first.hashes.phash, tenth.hashes.phash)).toBeLessThanOrEqual(10);
  });

  it('treats names with a leading dash or a colon as plain files', async () => {
    const odd = join(dir, '-weird:name.mp4');
    await copyFile(video, odd);
    expect(await probeVideo(odd)).toMatchObject({ ok: true, width: 320 });
  });

  it('returns failures as values: missing file, not a video, timeout', async () => {
    expect(await probeVideo(join(dir, 'gone.mp4'))).toMatchObject({ ok: false, kind: 'missing' });
    const text = join(dir, 'fake.mp4');
    await writeFile(text, 'this is not a video');
    expect(await analyseVideoFrame(text)).toMatchObject({ ok: false, kind: 'corrupt' });
    expect(await probeVideo(video, { timeoutMs: 1 })).toMatchObject({ ok: false, kind: 'timeout' });
  });
});
