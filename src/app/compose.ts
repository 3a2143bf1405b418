/**
 * Builds a Container with the real adapters: sharp/ffmpeg analysis, exiftool, generation parsers,
 * the event bus. The CLI and the agent both come through here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readFileIfAdmitted, readSmallFile, releaseFileBytes } from '../adapters/fs.adapter.js';
import { readPngText } from '../adapters/png-text.adapter.js';
import { parseYamlText } from '../adapters/yaml.adapter.js';
import { resolveFrom } from '../config/paths.js';
import { AliceError, ErrorCode, errorMessage } from '../domain/errors.js';
import { extractGeneration } from '../domain/generation/index.js';
import { DEFAULT_VOCABULARY } from '../domain/default-vocabulary.js';
import { mergeVocabularies, parseVocabulary, tagsFromPrompt, type Vocabulary } from '../domain/vocabulary.js';
import { ExiftoolAdapter } from '../adapters/exiftool.adapter.js';
import { probeMetadata, probesFormat } from '../adapters/metadata-probe.adapter.js';
import { embeddedFromHeader, type MetadataVerdict } from '../domain/metadata-probe.js';
import { tagsFromEmbedded } from '../domain/embedded-metadata.js';
import type { MediaFacts } from '../domain/sidecar.js';
import { analyseVideoFrame } from '../adapters/ffmpeg.adapter.js';
import {
  IN_MEMORY_MAX,
  analyseImageAndPixels,
  analyseImageFile,
  pixelHash,
  readStealthText,
} from '../adapters/sharp.adapter.js';
import { imageDataHash } from '../adapters/image-data-hash.adapter.js';
import type { Config } from '../config/config.js';
import { createEventBus } from '../events/event-bus.service.js';
import { eventSettingsFromEnv } from '../events/event-settings.js';
import { ContentAnalyser, type AnalyserParts } from '../services/scan/analyse.service.js';
import { NO_LOG, type EventSink, type Logger } from '../ports.js';
import { Container } from './container.js';

export interface ComposeOptions {
  readOnly: boolean;
  /** Emit events (commands that change the library, and the agent). */
  events: boolean;
  logger?: Logger;
  /** Sees every event emitted (the agent uses it to queue new assets for understanding). */
  onEvent?: (type: string, payload: Readonly<Record<string, unknown>>) => void;
}

/**
 * Embedded metadata of one file. A PNG, JPEG or WebP whose header shows no EXIF, XMP, IPTC,
 * comment or non-generator text (most generated images) is not sent to exiftool at all: the
 * header scan costs one or a few reads, an exiftool round trip much more.
 */
function embeddedPart(exif: ExiftoolAdapter): NonNullable<AnalyserParts['embedded']> {
  return async (file, mediaInfo, bytes) => {
    // A video or other format is not probed: its bytes are not read for nothing.
    const data = probesFormat(mediaInfo.format) ? await bytes?.() : undefined;
    const probe = await probeMetadata(file, mediaInfo.format, data).catch((): MetadataVerdict => ({
      kind: 'unknown',
    }));
    const read = probe.kind === 'none' ? embeddedFromHeader(probe) : await exif.readEmbedded(file);
    const media: MediaFacts = {};
    if (read.width !== undefined) media.width = read.width;
    if (read.height !== undefined) media.height = read.height;
    if (read.duration !== undefined) media.duration = read.duration;
    if (read.created !== undefined) media.created_at = read.created;
    const facts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({
      title: read.title,
      rating: read.rating,
      software: read.software,
      file_type: read.fileType,
      keywords: read.keywords.length > 0 ? read.keywords : undefined,
      hierarchical_keywords: read.hierarchicalKeywords.length > 0 ? read.hierarchicalKeywords : undefined,
      alice_content_hash: read.contentHash,
    })) {
      if (v !== undefined) facts[k] = v;
    }
    return {
      tags: tagsFromEmbedded(read),
      description: read.description ?? null,
      media,
      facts,
      raw: read.raw,
      warnings: [...read.warnings],
    };
  };
}

/** The tagging vocabulary: the built-in one, extended by `tagging.vocabulary` when set. */
export function loadVocabulary(config: Config): Vocabulary {
  const file = config.settings.tagging.vocabulary;
  if (file === null) return DEFAULT_VOCABULARY;
  const full = resolveFrom(
    config.settingsFile === null ? config.home : path.dirname(config.settingsFile),
    file,
  );
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch (err) {
    throw new AliceError(
      ErrorCode.CONFIG_INVALID,
      `tagging.vocabulary: cannot read ${full}: ${errorMessage(err)}`,
    );
  }
  const parsed = parseYamlText(text);
  if (!parsed.ok) {
    const where = parsed.errors.map((e) => `line ${e.line ?? '?'}: ${e.message}`).join('; ');
    throw new AliceError(
      ErrorCode.CONFIG_INVALID,
      `tagging.vocabulary: ${full} is not valid YAML (${where})`,
      {
        hint: 'fix the file, or set tagging.vocabulary to null to use the built-in vocabulary',
      },
    );
  }
  return mergeVocabularies(DEFAULT_VOCABULARY, parseVocabulary(parsed.value));
}

export function analyserParts(exif?: ExiftoolAdapter, vocabulary?: Vocabulary): AnalyserParts {
  return {
    ...(exif === undefined ? {} : { embedded: embeddedPart(exif) }),
    readSmall: readFileIfAdmitted,
    releaseSmall: releaseFileBytes,
    pngText: async (file, bytes) => {
      const r = await readPngText(file, undefined, await bytes?.());
      return { chunks: r.text, warnings: [...r.warnings], time: r.time };
    },
    stealth: readStealthText,
    generation: extractGeneration,
    ...(vocabulary === undefined
      ? {}
      : { promptTags: (prompt: string) => tagsFromPrompt(prompt, vocabulary) }),
    image: async (file, bytes, slot) => {
      // The bytes once for both: the image hash walks them, the decode reads them from memory.
      const data = (await bytes?.()) ?? (await readSmallFile(file, IN_MEMORY_MAX).catch(() => undefined));
      const imageHash = await imageDataHash(file, data).catch(() => undefined);
      // PNG, JPEG and WebP are identified by their coded data: one shrinking decode for the
      // perceptual hashes. Other formats are decoded at full size once more for a pixel hash.
      const r =
        imageHash === undefined
          ? await slot(() => analyseImageAndPixels(file, undefined, data))
          : await analyseImageFile(file, undefined, data, slot);
      const pixels = r.ok && 'pixelHash' in r && typeof r.pixelHash === 'string' ? r.pixelHash : undefined;
      return r.ok
        ? {
            ok: true,
            width: r.width,
            height: r.height,
            hashes: r.hashes,
            format: r.format,
            ...(imageHash === undefined ? {} : { imageHash }),
            ...(pixels === undefined ? {} : { pixelHash: pixels }),
          }
        : {
            ok: false,
            reason: `cannot decode image (${r.kind}): ${r.reason}`,
            damaged: r.kind === 'corrupt' || r.kind === 'unsupported',
          };
    },
    pixels: (file) => pixelHash(file),
    video: async (file) => {
      const r = await analyseVideoFrame(file);
      return r.ok
        ? { ok: true, width: r.width, height: r.height, duration: r.duration, hashes: r.hashes }
        : { ok: false, reason: r.reason };
    },
  };
}

export async function createContainer(config: Config, opts: ComposeOptions): Promise<Container> {
  const logger = opts.logger ?? NO_LOG;
  let events: EventSink | undefined;
  let closeEvents: (() => Promise<void>) | undefined;
  let backlog: (() => number) | undefined;
  if (opts.events && !opts.readOnly) {
    const s = eventSettingsFromEnv(process.env, config.settings.events);
    const bus = await createEventBus({
      home: config.home,
      ...s,
      logger: (level, msg) =>
        level === 'error' ? logger.error(msg) : level === 'warn' ? logger.warn(msg) : logger.debug(msg),
    });
    const tap = opts.onEvent;
    events = {
      emit: (type, payload) => {
        bus.emit(type, payload);
        tap?.(type, payload as unknown as Readonly<Record<string, unknown>>);
      },
      // A backend that is down keeps its events queued (and retries); the change still lands.
      flush: () =>
        bus.flush().catch((err: unknown) => logger.warn(`events not yet delivered: ${errorMessage(err)}`)),
    };
    closeEvents = () => bus.close();
    backlog = () => bus.backlog();
  }
  const exif = new ExiftoolAdapter({
    // Read-only runs (dry runs, verify, show) must not create anything under ALICE_HOME: the
    // exiftool config then goes to a temp dir removed on close.
    ...(opts.readOnly ? {} : { stateDir: config.paths.state }),
    maxProcs: config.settings.pipeline.analyse_concurrency,
  });
  await exif.start();
  const container = new Container(config, {
    readOnly: opts.readOnly,
    logger,
    exif,
    analyser: new ContentAnalyser(
      analyserParts(exif, config.settings.tagging.from_prompt ? loadVocabulary(config) : undefined),
      { decodeConcurrency: config.settings.pipeline.analyse_concurrency },
    ),
    ...(events === undefined ? {} : { events }),
  });
  if (backlog !== undefined) container.eventBacklog = backlog;
  container.onClose(() => exif.close());
  if (closeEvents !== undefined) container.onClose(closeEvents);
  return container;
}
