/**
 * Thumbnails for the web page: made on first request (sharp for images, an ffmpeg poster frame for
 * videos), cached by content hash under `$ALICE_HOME/thumbs/<2hex>/<hash>-<px>.webp`, so a renamed
 * or copied file never makes a new one. A bounded queue keeps a fast scroll through a big library
 * from stalling everything else: a few are made at once, a limited number wait, the rest are told
 * to come back (busy). A file that cannot be decoded is remembered with its reason.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../adapters/fs.adapter.js';
import { errnoCode } from '../../domain/errors.js';

/** The two sizes: grid cells and the asset page's preview. */
export const THUMB_SIZES = { small: 320, large: 1024 } as const;
export type ThumbSize = keyof typeof THUMB_SIZES;

export type MadeImage = { ok: true; data: Buffer } | { ok: false; reason: string };

export interface ThumbnailDeps {
  /** `$ALICE_HOME/thumbs`. */
  readonly dir: string;
  /** WebP of an image file or of frame bytes, longest side ≤ px. */
  readonly makeWebp: (input: string | Buffer, px: number) => Promise<MadeImage>;
  /** A video's poster frame (PNG bytes); fails with a reason when ffmpeg is missing. */
  readonly posterFrame: (file: string) => Promise<MadeImage>;
  /** Thumbnails made at once. */
  readonly concurrency: number;
  /** Requests that may wait; more are answered `busy`. Default 512. */
  readonly maxWaiting?: number;
}

export type ThumbResult =
  { ok: true; file: string; size: number } | { ok: false; reason: string; busy: boolean };

export interface ThumbRequest {
  hash: string;
  mediaType: string;
  /** A present copy of the asset. */
  file: string;
  size: ThumbSize;
}

export class ThumbnailService {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly inFlight = new Map<string, Promise<ThumbResult>>();
  private readonly failed = new Map<string, string>();

  constructor(private readonly deps: ThumbnailDeps) {}

  /** Thumbnails being made and waiting to be made. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Where a thumbnail of this hash and size lives once made. */
  cachePath(hash: string, size: ThumbSize): string {
    return path.join(this.deps.dir, hash.slice(0, 2), `${hash}-${THUMB_SIZES[size]}.webp`);
  }

  /** The cached thumbnail, made first if needed. */
  async get(req: ThumbRequest): Promise<ThumbResult> {
    const target = this.cachePath(req.hash, req.size);
    const cached = await sizeOf(target);
    if (cached !== null) return { ok: true, file: target, size: cached };
    const known = this.failed.get(target);
    if (known !== undefined) return { ok: false, reason: known, busy: false };
    const pending = this.inFlight.get(target);
    if (pending !== undefined) return pending;
    if (this.waiting.length >= (this.deps.maxWaiting ?? 512))
      return { ok: false, reason: 'thumbnail queue full: try again', busy: true };
    const work = this.queued(() => this.make(req, target)).finally(() => this.inFlight.delete(target));
    this.inFlight.set(target, work);
    return work;
  }

  private async queued<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.deps.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async make(req: ThumbRequest, target: string): Promise<ThumbResult> {
    const px = THUMB_SIZES[req.size];
    let made: MadeImage;
    if (req.mediaType === 'video') {
      const frame = await this.deps.posterFrame(req.file);
      made = frame.ok ? await this.deps.makeWebp(frame.data, px) : frame;
    } else if (req.mediaType === 'image') {
      made = await this.deps.makeWebp(req.file, px);
    } else {
      made = { ok: false, reason: `no preview for ${req.mediaType}` };
    }
    if (!made.ok) {
      if (this.failed.size > 10_000) this.failed.clear();
      this.failed.set(target, made.reason);
      return { ok: false, reason: made.reason, busy: false };
    }
    await writeFileAtomic(target, made.data, 0o600);
    return { ok: true, file: target, size: made.data.length };
  }
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}
