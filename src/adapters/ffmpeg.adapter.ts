/**
 * ffmpeg/ffprobe, when installed: probe a video and grab one frame to hash. Processes are spawned
 * with an argument array (no shell), a timeout and a cap on captured output. Paths are passed as
 * `file:<absolute path>` so a name starting with `-` or containing `:` is never read as an option
 * or protocol. A missing ffmpeg is an expected outcome (`no perceptual hash: ffmpeg not found`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import type { PerceptualHashes } from '../domain/sidecar.js';
import { analyseImage, type ImageDecodeOptions } from './sharp.adapter.js';

export interface FfmpegOptions {
  /** ffmpeg executable (name on PATH or absolute path). Default `ffmpeg`. */
  readonly ffmpegPath: string;
  /** ffprobe executable. Default `ffprobe`. */
  readonly ffprobePath: string;
  /** Milliseconds before a probe or frame grab is killed. Default 30000. */
  readonly timeoutMs: number;
  /** Largest frame side (the frame is scaled down to fit). Default 512: plenty for 32×32 hashes. */
  readonly frameMaxSize: number;
  /** Captured stdout above this many bytes kills the process. Default 32 MiB. */
  readonly maxOutputBytes: number;
}

export const DEFAULT_FFMPEG_OPTIONS: Readonly<FfmpegOptions> = Object.freeze({
  ffmpegPath: 'ffmpeg',
  ffprobePath: 'ffprobe',
  timeoutMs: 30_000,
  frameMaxSize: 512,
  maxOutputBytes: 32 * 1024 * 1024,
});

export const FFMPEG_NOT_FOUND = 'no perceptual hash: ffmpeg not found';

export interface VideoFailure {
  readonly ok: false;
  readonly kind: 'unavailable' | 'missing' | 'corrupt' | 'timeout' | 'too_large';
  readonly reason: string;
}

export interface VideoProbe {
  /** Seconds, or null when the container does not say. */
  readonly duration: number | null;
  /** Displayed size (rotation metadata applied). */
  readonly width: number;
  readonly height: number;
  readonly codec: string | null;
}

export type VideoProbeResult = ({ readonly ok: true } & VideoProbe) | VideoFailure;
export type FrameResult = { readonly ok: true; readonly png: Buffer; readonly at: number } | VideoFailure;
export type VideoAnalysisResult =
  | ({ readonly ok: true; readonly hashes: PerceptualHashes; readonly frameAt: number } & VideoProbe)
  | VideoFailure;

interface RunResult {
  readonly status: 'done' | 'not_found' | 'timeout' | 'too_large';
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

const MAX_STDERR = 64 * 1024;

/**
 * No orphans: on Linux each ffmpeg/ffprobe starts under `setpriv --pdeathsig KILL` (util-linux),
 * so the kernel kills it the moment the agent dies, however it dies (kill -9 included). setpriv
 * execs the command (same pid, so timeouts still kill the right process). Where setpriv or the
 * option is missing, the command runs directly (it still ends at its timeout or on a closed pipe).
 */
let deathSignalWrapper: string | null | undefined;
function pdeathsigWrapper(): string | null {
  if (deathSignalWrapper !== undefined) return deathSignalWrapper;
  deathSignalWrapper = null;
  if (process.platform === 'linux') {
    const probe = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], {
      stdio: 'ignore',
      timeout: 5000,
    });
    if (probe.status === 0) deathSignalWrapper = 'setpriv';
  }
  return deathSignalWrapper;
}

/** setpriv's own words when it cannot start the command: the command is not installed. */
const SETPRIV_NOT_FOUND = /setpriv: failed to execute .*No such file or directory/i;

/** Runs a command to completion; never rejects. */
function run(cmd: string, args: readonly string[], o: FfmpegOptions): Promise<RunResult> {
  return new Promise((done) => {
    const wrapper = pdeathsigWrapper();
    const child =
      wrapper === null
        ? spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(wrapper, ['--pdeathsig', 'KILL', '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let status: RunResult['status'] = 'done';
    const stop = (why: RunResult['status']): void => {
      status = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > o.maxOutputBytes) stop('too_large');
      else chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += c.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({
        status: err.code === 'ENOENT' ? 'not_found' : 'done',
        code: -1,
        stdout: Buffer.alloc(0),
        stderr: err.message,
      });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (wrapper !== null && code === 127 && SETPRIV_NOT_FOUND.test(stderr)) status = 'not_found';
      done({ status, code, stdout: Buffer.concat(chunks), stderr });
    });
  });
}

function merge(opts: Partial<FfmpegOptions> | undefined): FfmpegOptions {
  return { ...DEFAULT_FFMPEG_OPTIONS, ...opts };
}

const available = new Map<string, Promise<boolean>>();

/** Are both ffmpeg and ffprobe runnable? Checked once per pair of paths. */
export function hasFfmpeg(opts?: Partial<FfmpegOptions>): Promise<boolean> {
  const o = merge(opts);
  const key = `${o.ffmpegPath}\0${o.ffprobePath}`;
  let known = available.get(key);
  if (known === undefined) {
    const check = async (cmd: string): Promise<boolean> => (await run(cmd, ['-version'], o)).code === 0;
    known = Promise.all([check(o.ffmpegPath), check(o.ffprobePath)]).then(([a, b]) => a && b);
    available.set(key, known);
  }
  return known;
}

function failureOf(r: RunResult, what: string, o: FfmpegOptions): VideoFailure {
  if (r.status === 'not_found') return { ok: false, kind: 'unavailable', reason: FFMPEG_NOT_FOUND };
  if (r.status === 'timeout')
    return { ok: false, kind: 'timeout', reason: `${what} took longer than ${o.timeoutMs} ms` };
  if (r.status === 'too_large')
    return { ok: false, kind: 'too_large', reason: `${what} output exceeds ${o.maxOutputBytes} bytes` };
  if (/no such file or directory/i.test(r.stderr))
    return { ok: false, kind: 'missing', reason: 'file not found' };
  const detail = r.stderr.trim().split('\n').pop() ?? '';
  return { ok: false, kind: 'corrupt', reason: `${what} failed${detail === '' ? '' : `: ${detail}`}` };
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

function asNumber(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseFloat(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

/** Reads ffprobe's JSON for the first video stream; null when it has no usable video stream. */
export function parseProbe(json: string): VideoProbe | null {
  let doc: Record<string, unknown>;
  try {
    doc = asRecord(JSON.parse(json));
  } catch {
    return null;
  }
  const streams = Array.isArray(doc['streams']) ? doc['streams'] : [];
  const stream = asRecord(streams[0]);
  const w = asNumber(stream['width']);
  const h = asNumber(stream['height']);
  if (w === null || h === null || w <= 0 || h <= 0) return null;
  const sideData = Array.isArray(stream['side_data_list']) ? stream['side_data_list'] : [];
  const rotation =
    sideData.map((s) => asNumber(asRecord(s)['rotation'])).find((r) => r !== null) ??
    asNumber(asRecord(stream['tags'])['rotate']) ??
    0;
  const turned = Math.abs(rotation) % 180 === 90;
  const duration = asNumber(asRecord(doc['format'])['duration']) ?? asNumber(stream['duration']);
  const codec = typeof stream['codec_name'] === 'string' ? stream['codec_name'] : null;
  return { duration, width: turned ? h : w, height: turned ? w : h, codec };
}

/** Duration and displayed size of a video via `ffprobe -print_format json`. */
export async function probeVideo(path: string, opts?: Partial<FfmpegOptions>): Promise<VideoProbeResult> {
  const o = merge(opts);
  const args = [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    '-select_streams',
    'v:0',
  ];
  const r = await run(o.ffprobePath, [...args, `file:${resolvePath(path)}`], o);
  if (r.status !== 'done' || r.code !== 0) return failureOf(r, 'ffprobe', o);
  const probe = parseProbe(r.stdout.toString('utf8'));
  return probe === null ? { ok: false, kind: 'corrupt', reason: 'no video stream' } : { ok: true, ...probe };
}

async function grab(path: string, at: number, o: FfmpegOptions): Promise<RunResult> {
  const side = Math.max(16, Math.round(o.frameMaxSize));
  const scale = `scale='min(${side},iw)':'min(${side},ih)':force_original_aspect_ratio=decrease`;
  const args = ['-v', 'error', '-nostdin', '-ss', at.toFixed(3), '-i', `file:${resolvePath(path)}`];
  return run(
    o.ffmpegPath,
    [...args, '-frames:v', '1', '-vf', scale, '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'],
    o,
  );
}

/**
 * One frame as PNG at `atFraction` of the duration (default 10%: past fades from black). Falls back
 * to the first frame when the seek yields nothing (unknown or wrong duration).
 */
export async function extractFrame(
  path: string,
  atFraction = 0.1,
  opts?: Partial<FfmpegOptions>,
  duration?: number | null,
): Promise<FrameResult> {
  const o = merge(opts);
  let known = duration;
  if (known === undefined) {
    const probe = await probeVideo(path, o);
    if (!probe.ok) return probe;
    known = probe.duration;
  }
  const fraction = Math.min(Math.max(atFraction, 0), 1);
  const at = known !== null && known > 0 ? known * fraction : 0;
  let r = await grab(path, at, o);
  if (r.status === 'done' && r.code === 0 && r.stdout.length > 0) return { ok: true, png: r.stdout, at };
  if (at > 0 && r.status === 'done') r = await grab(path, 0, o);
  if (r.status === 'done' && r.code === 0 && r.stdout.length > 0) return { ok: true, png: r.stdout, at: 0 };
  return r.status === 'done' && r.code === 0
    ? { ok: false, kind: 'corrupt', reason: 'ffmpeg produced no frame' }
    : failureOf(r, 'ffmpeg', o);
}

/** Probe + one frame + the same hashes as images. */
export async function analyseVideoFrame(
  path: string,
  opts?: { ffmpeg?: Partial<FfmpegOptions>; image?: Partial<ImageDecodeOptions>; atFraction?: number },
): Promise<VideoAnalysisResult> {
  const o = merge(opts?.ffmpeg);
  if (!(await hasFfmpeg(o))) return { ok: false, kind: 'unavailable', reason: FFMPEG_NOT_FOUND };
  const probe = await probeVideo(path, o);
  if (!probe.ok) return probe;
  const frame = await extractFrame(path, opts?.atFraction ?? 0.1, o, probe.duration);
  if (!frame.ok) return frame;
  const image = await analyseImage(frame.png, opts?.image);
  if (!image.ok) return { ok: false, kind: 'corrupt', reason: `frame: ${image.reason}` };
  const { duration, width, height, codec } = probe;
  return { ok: true, duration, width, height, codec, hashes: image.hashes, frameAt: frame.at };
}
