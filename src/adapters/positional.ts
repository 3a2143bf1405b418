/** Positional reads shared by the adapters that walk a file's structure without reading it all. */

/** What a structure walk needs of a file: positional reads (a FileHandle, or bytes in memory). */
export interface Positional {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
}

/** The same reads over a file already in memory. */
export function bytesPositional(data: Uint8Array): Positional {
  return {
    read: (buffer, offset, length, position) => {
      const part = data.subarray(position, Math.min(position + length, data.length));
      buffer.set(part, offset);
      return Promise.resolve({ bytesRead: part.length });
    },
    stat: () => Promise.resolve({ size: data.length }),
  };
}

/** Up to `length` bytes at `position` (fewer at the end of the file), read until filled. */
export async function readAt(handle: Positional, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(Math.max(0, length));
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
