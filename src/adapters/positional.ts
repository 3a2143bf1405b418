/** Positional reads shared by the adapters that walk a file's structure without reading it all. */

/** What a structure walk needs of a file: positional reads (a FileHandle, or bytes in memory). */
export interface Positional {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  /** Bytes in memory: up to `length` bytes at `position` as a view, nothing copied. */
  view?(position: number, length: number): Uint8Array;
}

/** The same reads over a file already in memory (and views of it, which `readAt` prefers). */
export function bytesPositional(data: Uint8Array): Positional {
  return {
    view: (position, length) =>
      data.subarray(Math.min(position, data.length), Math.min(position + Math.max(0, length), data.length)),
    read: (buffer, offset, length, position) => {
      const part = data.subarray(position, Math.min(position + length, data.length));
      buffer.set(part, offset);
      return Promise.resolve({ bytesRead: part.length });
    },
    stat: () => Promise.resolve({ size: data.length }),
  };
}

/**
 * Up to `length` bytes at `position` (fewer at the end of the file), read until filled; a view,
 * not a copy, of bytes in memory (callers must not write into it).
 */
export async function readAt(handle: Positional, position: number, length: number): Promise<Uint8Array> {
  if (handle.view !== undefined) return handle.view(position, length);
  const buffer = new Uint8Array(Math.max(0, length));
  return buffer.subarray(0, await readInto(handle, buffer, 0, position));
}

/**
 * Fills `buffer` from `offset` to its end with the bytes at `position` onwards, reading until it
 * is full or the file ends; returns how far it is filled (`offset` plus the bytes read).
 */
export async function readInto(
  handle: Positional,
  buffer: Uint8Array,
  offset: number,
  position: number,
): Promise<number> {
  let filled = offset;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(
      buffer,
      filled,
      buffer.length - filled,
      position + filled - offset,
    );
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * Positional reads through a window of `windowBytes`: headers that sit close together (a PNG's
 * chunk headers between 8 KiB IDAT chunks) cost one read per window instead of one per header.
 * A short read at the end of the file is kept as it is.
 */
export function windowedReader(
  handle: Positional,
  windowBytes: number,
  /**
   * Where windows of a file on disk are read into, reused from one window to the next: a view
   * returned is then valid only until the next call. Without it each window is a new buffer.
   */
  scratch?: Uint8Array,
): (position: number, length: number) => Promise<Uint8Array> {
  let start = 0;
  let data: Uint8Array = new Uint8Array(0);
  return async (position, length) => {
    const end = position + length;
    if (position < start || end > start + data.length) {
      start = position;
      const want = Math.max(length, windowBytes);
      data =
        handle.view === undefined && scratch !== undefined && want <= scratch.length
          ? scratch.subarray(0, await readInto(handle, scratch.subarray(0, want), 0, position))
          : await readAt(handle, position, want);
    }
    return data.subarray(position - start, Math.min(end - start, data.length));
  };
}
