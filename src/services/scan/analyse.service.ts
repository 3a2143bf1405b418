/**
 * Analyses one file's content for the index: dimensions and perceptual hashes (one decode),
 * embedded metadata (tags, description, dates), generation metadata and prompt-derived tags.
 * Each part is injected; a part that fails becomes a warning, never an exception.
 */
import { generatorTime } from '../../domain/generation/created.js';
import type { GenerationInput } from '../../domain/generation/index.js';
import type { Generation } from '../../domain/generation/model.js';
import type { StealthText } from '../../domain/generation/stealth.js';
import type { MediaFacts, PerceptualHashes } from '../../domain/sidecar.js';
import type { Tag } from '../../domain/tags.js';
import { errorMessage } from '../../domain/errors.js';
import { contentMismatch, type MediaInfo } from '../../domain/media.js';
import { emptyAnalysis } from './basic-analyser.js';
import { Limiter } from '../../pipeline/limiter.js';
import type { Analyser, Analysis, DecodeSlot, TaggedValue } from '../../ports.js';

/** A failed part; `damaged` when the file itself is at fault (corrupt, truncated, not that format). */
export type PartResult<T> = ({ ok: true } & T) | { ok: false; reason: string; damaged?: boolean };

export interface EmbeddedInfo {
  tags: TaggedValue[];
  description: string | null;
  media: MediaFacts;
  /** Facts kept in the sidecar's `embedded_metadata` (title, rating, software, …). */
  facts: Record<string, unknown>;
  /** Raw tag values the generation parsers read (UserComment, Software, Comment, …). */
  raw: Record<string, unknown>;
  warnings: string[];
}

/**
 * The file's bytes, read once per analysis and shared by the parts, when it is small (undefined
 * for a larger file: each part then reads what it needs from the path itself).
 */
export type FileBytes = () => Promise<Buffer | undefined>;

/**
 * Files up to this size are read once per analysis instead of once per part (header scan, text
 * chunks, image hash, decode): a part that walks a file's structure with positional reads waits
 * behind the decodes for the thread pool at each read.
 */
export const SHARED_READ_MAX_BYTES = 32 * 1024 * 1024;

/**
 * At most this many bytes of shared reads are held by the analyses in flight together; a file that
 * would go over it is read by each part from its path instead (it never waits).
 */
export const SHARED_READ_BUDGET_BYTES = 128 * 1024 * 1024;

export interface AnalyserParts {
  /** Decodes under `slot`; reading the file and hashing the decoded raster happen outside it. */
  image?: (
    file: string,
    bytes: FileBytes | undefined,
    slot: DecodeSlot,
  ) => Promise<
    PartResult<{
      width: number;
      height: number;
      hashes: PerceptualHashes;
      /** See Analysis.imageHash; without one (GIF, TIFF, …) the part gives `pixelHash` instead. */
      imageHash?: string;
      pixelHash?: string;
      /** The format found in the bytes (sharp's name), to tell a renamed file from its extension. */
      format?: string;
    }>
  >;
  /** SHA-256 of the decoded pixels (see Analyser.pixelHash). */
  pixels?: (file: string) => Promise<string | undefined>;
  video?: (
    file: string,
  ) => Promise<
    PartResult<{ width: number; height: number; duration: number | null; hashes: PerceptualHashes }>
  >;
  embedded?: (file: string, media: MediaInfo, bytes?: FileBytes) => Promise<EmbeddedInfo>;
  pngText?: (
    file: string,
    bytes?: FileBytes,
  ) => Promise<{ chunks: Record<string, string>; warnings: string[]; time?: string | undefined }>;
  /**
   * Reads a file whole when `admit(size)` agrees (see FileBytes); without it every part reads
   * from the path.
   */
  readSmall?: (file: string, admit: (size: number) => boolean) => Promise<Buffer | undefined>;
  /** Takes back bytes `readSmall` gave once the analysis that held them has ended. */
  releaseSmall?: (bytes: Buffer) => void;
  /** Text hidden in a PNG's pixel low bits; read only when the text chunks and tags gave nothing. */
  stealth?: (file: string, warnings: string[]) => Promise<StealthText | undefined>;
  generation?: (input: GenerationInput) => {
    generation: Generation | null;
    warnings: string[];
  };
  promptTags?: (prompt: string) => Tag[];
  pathTags?: (file: string) => TaggedValue[];
}

async function safely<T>(what: string, warnings: string[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    warnings.push(`${what}: ${errorMessage(err)}`);
    return undefined;
  }
}

export interface AnalyserOptions {
  /**
   * Decodes (image or video frame) at once. The scan keeps more files than this in flight, so
   * their reads, header scans, exiftool calls and sidecar writes overlap the decodes, which are
   * the CPU-bound part; this bounds the CPU and the memory held by decoded pixels. Default 2.
   */
  decodeConcurrency: number;
  /** See SHARED_READ_BUDGET_BYTES (the default). */
  sharedReadBudget: number;
}

export class ContentAnalyser implements Analyser {
  private readonly decodes: Limiter;
  /** Bytes of shared reads held by the analyses in flight (see SHARED_READ_BUDGET_BYTES). */
  private held = 0;
  private readonly budget: number;

  constructor(
    private readonly parts: AnalyserParts,
    opts: Partial<AnalyserOptions> = {},
  ) {
    this.decodes = new Limiter(opts.decodeConcurrency ?? 2);
    this.budget = opts.sharedReadBudget ?? SHARED_READ_BUDGET_BYTES;
  }

  async pixelHash(file: string): Promise<string | undefined> {
    const part = this.parts.pixels;
    if (part === undefined) return undefined;
    try {
      return await this.decodes.run(() => part(file));
    } catch {
      return undefined;
    }
  }

  async analyse(file: string, media: MediaInfo, given?: Buffer): Promise<Analysis> {
    // Bytes the caller read are used as the shared read (the caller bounds what it holds).
    const shared =
      given === undefined
        ? this.bytesOf(file)
        : { bytes: () => Promise.resolve(given), held: () => 0, read: () => Promise.resolve(given) };
    try {
      return await this.analyseWith(file, media, shared?.bytes);
    } finally {
      this.held -= shared?.held() ?? 0;
      // Every part has finished with the bytes (none keeps a view of them in its result).
      const read = shared?.read();
      if (read !== undefined && this.parts.releaseSmall !== undefined) {
        const release = this.parts.releaseSmall;
        void read.then((b) => (b === undefined ? undefined : release(b)));
      }
    }
  }

  private async analyseWith(file: string, media: MediaInfo, bytes: FileBytes | undefined): Promise<Analysis> {
    const a = emptyAnalysis(media);
    const w = a.warnings;
    await this.visual(file, media, a, bytes);
    const embedded =
      this.parts.embedded === undefined
        ? undefined
        : await safely('metadata', w, () =>
            (this.parts.embedded as NonNullable<AnalyserParts['embedded']>)(file, media, bytes),
          );
    if (embedded !== undefined) {
      a.tags.push(...embedded.tags);
      a.description = embedded.description;
      a.media = { ...embedded.media, ...a.media };
      a.embeddedMetadata = embedded.facts;
      w.push(...embedded.warnings);
    }
    await this.generation(file, media, embedded?.raw, a, bytes);
    if (this.parts.pathTags !== undefined) a.tags.push(...this.parts.pathTags(file));
    return a;
  }

  /**
   * One read of a file for every part of this analysis, when it is small enough and the budget
   * has room (a failed read gives undefined: the parts then read the path themselves and report
   * the problem as they did). `held` is what this analysis holds, released when it ends.
   */
  private bytesOf(
    file: string,
  ):
    | { bytes: FileBytes; held: () => number; read: () => Promise<Buffer | undefined> | undefined }
    | undefined {
    const read = this.parts.readSmall;
    if (read === undefined) return undefined;
    let once: Promise<Buffer | undefined> | undefined;
    let mine = 0;
    // The bytes are reserved once the size is known, before they are read.
    const admit = (size: number): boolean => {
      if (size > SHARED_READ_MAX_BYTES || this.held + size > this.budget) return false;
      mine = size;
      this.held += size;
      return true;
    };
    const bytes: FileBytes = () => (once ??= read(file, admit).catch(() => undefined));
    return { bytes, held: () => mine, read: () => once };
  }

  private async visual(file: string, media: MediaInfo, a: Analysis, bytes?: FileBytes): Promise<void> {
    const { image, video } = this.parts;
    const slot: DecodeSlot = (decode) => this.decodes.run(decode);
    const run =
      media.type === 'image' && image !== undefined
        ? () => image(file, bytes, slot)
        : media.type === 'video' && video !== undefined
          ? () => slot(() => video(file))
          : undefined;
    if (run === undefined) return;
    const r = await safely('decode', a.warnings, run);
    if (r === undefined) return;
    if (!r.ok) {
      a.warnings.push(r.reason);
      if (r.damaged === true) a.damage = r.reason;
      return;
    }
    a.media = { ...a.media, width: r.width, height: r.height };
    const mismatch = 'format' in r ? contentMismatch(file.split(/[\\/]/).pop() ?? file, r.format) : undefined;
    if (mismatch !== undefined) {
      // It decodes, but other programs go by the name and fail on it, and so would an embed.
      a.warnings.push(mismatch);
      a.damage = mismatch;
    }
    if ('imageHash' in r && typeof r.imageHash === 'string') a.imageHash = r.imageHash;
    if ('pixelHash' in r && typeof r.pixelHash === 'string') a.pixelHash = r.pixelHash;
    if ('duration' in r && typeof r.duration === 'number') a.media.duration = r.duration;
    a.perceptual = r.hashes;
  }

  private async generation(
    file: string,
    media: MediaInfo,
    raw: Record<string, unknown> | undefined,
    a: Analysis,
    bytes?: FileBytes,
  ): Promise<void> {
    const parse = this.parts.generation;
    if (parse === undefined) return;
    let pngText: Record<string, string> | undefined;
    if (media.format === 'png' && this.parts.pngText !== undefined) {
      const read = this.parts.pngText;
      const r = await safely('png text', a.warnings, () => read(file, bytes));
      pngText = r?.chunks;
      a.warnings.push(...(r?.warnings ?? []));
      const at = generatorTime(pngText, r?.time);
      if (at !== undefined) a.generatedAt = at;
    }
    const name = file.split(/[\\/]/).pop() ?? file;
    const input: { -readonly [K in keyof GenerationInput]: GenerationInput[K] } = { fileName: name };
    if (pngText !== undefined) input.pngText = pngText;
    if (raw !== undefined) input.exif = raw;
    try {
      let g = parse(input);
      // Stealth bits cost a decode of the leading columns, so they are read only for PNGs whose
      // chunks and tags said nothing better than the file name (chunks stripped by an upload site).
      const weak = g.generation === null || g.generation.detected_from === 'filename';
      if (weak && media.format === 'png' && this.parts.stealth !== undefined) {
        const read = this.parts.stealth;
        const stealth = await safely('stealth metadata', a.warnings, () => read(file, a.warnings));
        if (stealth !== undefined) {
          input.stealth = stealth;
          g = parse(input);
        }
      }
      a.generation = g.generation;
      a.warnings.push(...g.warnings);
    } catch (err) {
      a.warnings.push(`generation metadata: ${errorMessage(err)}`);
    }
    const prompt = a.generation?.prompt;
    if (prompt !== undefined && this.parts.promptTags !== undefined) {
      const have = new Set(a.tags.map((t) => `${t.category}:${t.value.toLowerCase()}`));
      for (const t of this.parts.promptTags(prompt)) {
        if (!have.has(`${t.category}:${t.value.toLowerCase()}`)) a.tags.push({ ...t, source: 'vocabulary' });
      }
    }
  }
}
