/** Reads a real file the way ingest will: text chunks via the png-text adapter, tags via exiftool. */
import { basename } from 'node:path';
import { ExifTool } from 'exiftool-vendored';
import { readPngText } from '../../src/adapters/png-text.adapter.js';
import { extractGeneration, type GenerationResult } from '../../src/domain/generation/index.js';

export function newExifTool(): ExifTool {
  return new ExifTool({ maxProcs: 1 });
}

export async function readBack(
  et: ExifTool,
  path: string,
): Promise<GenerationResult & { pngWarnings: readonly string[] }> {
  const exif = (await et.read(path)) as unknown as Record<string, unknown>;
  const png = path.endsWith('.png') ? await readPngText(path) : undefined;
  const result = extractGeneration({
    fileName: basename(path),
    exif,
    ...(png === undefined ? {} : { pngText: png.text }),
  });
  return { ...result, pngWarnings: png?.warnings ?? [] };
}

/** Writes tags with exiftool, replacing the file in place. */
export async function writeTags(et: ExifTool, path: string, tags: Record<string, string>): Promise<void> {
  await et.write(path, tags, ['-overwrite_original']);
}
