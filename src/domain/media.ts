/** Media types and the file-name rules that decide what alice indexes. Pure: no I/O. */
export const MediaType = { IMAGE: 'image', VIDEO: 'video', AUDIO: 'audio' } as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

const EXTENSIONS: Readonly<Record<string, { type: MediaType; mime: string; format: string }>> = {
  png: { type: 'image', mime: 'image/png', format: 'png' },
  jpg: { type: 'image', mime: 'image/jpeg', format: 'jpeg' },
  jpeg: { type: 'image', mime: 'image/jpeg', format: 'jpeg' },
  webp: { type: 'image', mime: 'image/webp', format: 'webp' },
  gif: { type: 'image', mime: 'image/gif', format: 'gif' },
  heic: { type: 'image', mime: 'image/heic', format: 'heic' },
  heif: { type: 'image', mime: 'image/heif', format: 'heif' },
  avif: { type: 'image', mime: 'image/avif', format: 'avif' },
  tif: { type: 'image', mime: 'image/tiff', format: 'tiff' },
  tiff: { type: 'image', mime: 'image/tiff', format: 'tiff' },
  bmp: { type: 'image', mime: 'image/bmp', format: 'bmp' },
  mp4: { type: 'video', mime: 'video/mp4', format: 'mp4' },
  mov: { type: 'video', mime: 'video/quicktime', format: 'mov' },
  m4v: { type: 'video', mime: 'video/x-m4v', format: 'm4v' },
  webm: { type: 'video', mime: 'video/webm', format: 'webm' },
  mkv: { type: 'video', mime: 'video/x-matroska', format: 'mkv' },
  mp3: { type: 'audio', mime: 'audio/mpeg', format: 'mp3' },
  wav: { type: 'audio', mime: 'audio/wav', format: 'wav' },
  flac: { type: 'audio', mime: 'audio/flac', format: 'flac' },
  m4a: { type: 'audio', mime: 'audio/mp4', format: 'm4a' },
  ogg: { type: 'audio', mime: 'audio/ogg', format: 'ogg' },
};

/**
 * Every format name a search can ask for: the file extensions alice indexes and the format names
 * the index stores for them (`jpg` files are stored as `jpeg`), sorted.
 */
export const KNOWN_FORMATS: readonly string[] = [
  ...new Set(Object.entries(EXTENSIONS).flatMap(([ext, info]) => [ext, info.format])),
].sort();

/** Directories alice never descends into. */
export const IGNORED_DIRS: ReadonlySet<string> = new Set(['.metadata', '.alice', 'node_modules']);
/** Partial-download and temp suffixes: ignored until renamed to their final name. */
export const TEMP_SUFFIXES: readonly string[] = [
  '.part',
  '.crdownload',
  '.tmp',
  '.download',
  '.partial',
  '.alice-tmp',
];

export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot <= 0 ? '' : fileName.slice(dot + 1).toLowerCase();
}

export interface MediaInfo {
  readonly type: MediaType;
  readonly mime: string;
  readonly format: string;
}

/** The media kind of a file name, or undefined when alice does not index it. */
export function mediaInfoFor(fileName: string): MediaInfo | undefined {
  return EXTENSIONS[extensionOf(fileName)];
}

/** What each decoder format name (sharp's) may be named: HEIC and AVIF both decode as `heif`. */
const CONTENT_FORMATS: Readonly<Record<string, { label: string; formats: readonly string[] }>> = {
  png: { label: 'PNG', formats: ['png'] },
  jpeg: { label: 'JPEG', formats: ['jpeg'] },
  webp: { label: 'WebP', formats: ['webp'] },
  gif: { label: 'GIF', formats: ['gif'] },
  heif: { label: 'HEIF/AVIF', formats: ['heic', 'heif', 'avif'] },
  tiff: { label: 'TIFF', formats: ['tiff'] },
};

/**
 * Why a file's content does not match its extension (`PNG content with .jpg extension`), or
 * undefined when it does or either side is unknown. `contentFormat` is what the decoder found in
 * the bytes (sharp's format name), so a renamed file is told apart from a damaged one.
 */
export function contentMismatch(fileName: string, contentFormat: string | undefined): string | undefined {
  const ext = extensionOf(fileName);
  const named = EXTENSIONS[ext];
  const found = contentFormat === undefined ? undefined : CONTENT_FORMATS[contentFormat];
  if (named === undefined || found === undefined || named.type !== 'image') return undefined;
  if (found.formats.includes(named.format)) return undefined;
  return `${found.label} content with .${ext} extension`;
}

/** True for a damage reason `contentMismatch` gave: whole content under the wrong name, not half-written. */
export function isMismatchDamage(reason: string): boolean {
  return /^[A-Za-z/]+ content with \.[a-z0-9]+ extension$/.test(reason);
}

/** True for names alice must skip: hidden files, temp files and partial downloads. */
export function isIgnoredName(fileName: string): boolean {
  if (fileName.startsWith('.')) return true;
  const lower = fileName.toLowerCase();
  if (lower.endsWith('~')) return true;
  return TEMP_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/** True when a file with this name should be indexed. */
export function isIndexable(fileName: string): boolean {
  return !isIgnoredName(fileName) && mediaInfoFor(fileName) !== undefined;
}

export function isIgnoredDir(dirName: string): boolean {
  return dirName.startsWith('.') || IGNORED_DIRS.has(dirName);
}
