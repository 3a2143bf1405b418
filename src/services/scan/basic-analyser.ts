/** The analyser used when no richer one is wired: media facts from the file name only. */
import type { MediaInfo } from '../../domain/media.js';
import type { Analyser, Analysis } from '../../ports.js';

export function emptyAnalysis(media: MediaInfo): Analysis {
  return {
    media: { mime: media.mime, format: media.format },
    generation: null,
    perceptual: null,
    tags: [],
    description: null,
    embeddedMetadata: {},
    warnings: [],
  };
}

export const BASIC_ANALYSER: Analyser = {
  analyse: (_file: string, media: MediaInfo) => Promise.resolve(emptyAnalysis(media)),
};
