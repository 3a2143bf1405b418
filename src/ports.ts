/** Small ports that services depend on; the composition root supplies real implementations. */
import type { EventPayloads, EventType } from './domain/event-types.js';
import type { Generation } from './domain/generation/model.js';
import type { MediaInfo } from './domain/media.js';
import type { MediaFacts, PerceptualHashes } from './domain/sidecar.js';
import type { Tag } from './domain/tags.js';

export interface Progress {
  start(label: string, total?: number): void;
  tick(n?: number, detail?: string): void;
  done(): void;
}

export const NO_PROGRESS: Progress = { start: () => undefined, tick: () => undefined, done: () => undefined };

/** Publishes one event; the payload is checked against the published schema's type. */
export interface EventSink {
  emit<T extends EventType>(type: T, payload: EventPayloads[T]): void;
  /**
   * Resolves once every event emitted before the call is where consumers read it (the log, the
   * stream or its outbox). The index calls it before each commit (the container wires it as the
   * `beforeCommit` hook of `openDb`), so whoever sees a change can already read its event:
   * producers emit before the index write that shows the change. Sinks that deliver at once need
   * none.
   */
  flush?(): Promise<void>;
}

export const NO_EVENTS: EventSink = { emit: () => undefined };

export interface Logger {
  debug(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}

export const NO_LOG: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface TaggedValue extends Tag {
  readonly source: string;
}

/** What analysing one file's content yields. Everything is optional: failures become warnings. */
export interface Analysis {
  media: MediaFacts;
  generation: Generation | null;
  perceptual: PerceptualHashes | null;
  /** Tags read from embedded metadata or derived from the prompt, with their source. */
  tags: TaggedValue[];
  description: string | null;
  embeddedMetadata: Record<string, unknown>;
  warnings: string[];
  /** Set when the content is damaged (does not decode completely, or is not what its name says). */
  damage?: string;
  /**
   * SHA-256 of the coded image data, metadata left out (PNG, JPEG, WebP): tells a metadata-only
   * edit from a content change without decoding the pixels.
   */
  imageHash?: string;
  /** SHA-256 of the decoded pixels, for images without an image hash (GIF, TIFF, HEIF, …). */
  pixelHash?: string;
  /** When the generator made it (PNG `Creation Time` text, `tIME` chunk), ISO 8601. */
  generatedAt?: string;
}

/**
 * Runs one decode (libvips or ffmpeg work) under the analyser's bound on decodes at once. A part
 * takes it around the decode only: reading the file before and hashing the decoded raster after
 * run outside, so a slot is never held while waiting for the disk or for the main thread.
 */
export type DecodeSlot = <T>(decode: () => Promise<T>) => Promise<T>;

export interface Analyser {
  /**
   * `bytes`: the file's content when the caller already read it (a rebuild hashing it); the
   * analyser then owns them (see `releaseFileBytes`) and reads nothing of the file again.
   */
  analyse(file: string, media: MediaInfo, bytes?: Buffer): Promise<Analysis>;
  /**
   * SHA-256 of a file's decoded pixels, when it decodes: asked only to compare a file with an
   * asset whose sidecar predates image hashes and records only a pixel hash.
   */
  pixelHash?(file: string): Promise<string | undefined>;
}

export interface Clock {
  now(): Date;
}

export const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/**
 * Time for code that waits: the current time in ms and one-shot timers. Real timers never keep
 * the process alive; tests pass a fake one and advance it instead of sleeping.
 */
export interface Timers {
  now(): number;
  setTimeout(fn: () => unknown, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_TIMERS: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What the watcher needs to know about a path. */
export interface EntryStat {
  isFile: boolean;
  isDirectory: boolean;
  mtimeMs: number;
  dev: number;
}

/** stat and lstat that answer undefined for a path that does not exist; other errors throw. */
export interface StatPort {
  stat(p: string): Promise<EntryStat | undefined>;
  lstat(p: string): Promise<EntryStat | undefined>;
}

/** One request to a vision model: JPEG images (one, or a few frames of a video) and the instruction. */
export interface VisionRequest {
  readonly images: readonly Buffer[];
  readonly prompt: string;
  readonly maxTokens: number;
}

export interface VisionAnswer {
  readonly text: string;
  readonly usage: { readonly input_tokens: number; readonly output_tokens: number };
}

/** A vision model behind one protocol (src/adapters/vision-http.adapter.ts). Failures are values. */
export interface VisionProvider {
  describe(
    req: VisionRequest,
  ): Promise<({ ok: true } & VisionAnswer) | { ok: false; reason: string; status?: number }>;
}

/** Downscaled JPEGs of an asset for a vision model: the image, or a few frames of a video. */
export type VisionImages = (
  file: string,
  mediaType: 'image' | 'video' | 'audio',
) => Promise<{ ok: true; jpegs: Buffer[] } | { ok: false; reason: string }>;

/** Money spent on understanding so far, kept in `$ALICE_HOME/state/` (owner-only). */
export interface SpendStore {
  read(): Promise<{ spent_usd: number; requests: number }>;
  add(costUsd: number): Promise<{ spent_usd: number; requests: number }>;
}
