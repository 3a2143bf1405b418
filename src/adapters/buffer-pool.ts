/**
 * Read buffers reused across files. A scan reads thousands of files of a few MB each; a fresh
 * buffer per file is memory outside the JavaScript heap that only a full garbage collection gives
 * back, and those collections took a tenth of the agent's main thread in a burst. Buffers come in
 * power-of-two sizes; released ones wait (up to `maxFreeBytes` in all) for the next file.
 */

const MIN_CLASS = 64 * 1024;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Backing stores this pool handed out and that are not back yet. */
  private readonly out = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;
  private used = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Released bytes kept for reuse at most; more are left to the garbage collector. */
    private readonly maxFreeBytes: number,
    /** Requests larger than this get a buffer of their own that is never kept. */
    private readonly maxBufferBytes: number,
    /**
     * Kept buffers are dropped once none was asked for during this long: an agent that has
     * indexed a burst goes back to its idle memory.
     */
    private readonly idleMs = 10_000,
  ) {}

  /** A buffer of `size` bytes (contents undefined) to give back with `release` when done. */
  acquire(size: number): Buffer {
    this.used = true;
    const cap = sizeClass(size);
    if (cap > this.maxBufferBytes) return Buffer.allocUnsafeSlow(size);
    const reused = this.free.get(cap)?.pop();
    if (reused !== undefined) this.freeBytes -= cap;
    const store = reused ?? new ArrayBuffer(cap);
    this.out.add(store);
    return Buffer.from(store, 0, size);
  }

  /**
   * Gives back a buffer from `acquire` (any view of it): nothing may read or write it afterwards.
   * A buffer this pool did not hand out, or one given back already, is ignored.
   */
  release(buf: Uint8Array): void {
    const store = buf.buffer;
    if (!(store instanceof ArrayBuffer) || !this.out.has(store)) return;
    this.out.delete(store);
    const cap = store.byteLength;
    if (this.freeBytes + cap > this.maxFreeBytes) return;
    this.freeBytes += cap;
    const list = this.free.get(cap);
    if (list === undefined) this.free.set(cap, [store]);
    else list.push(store);
    this.timer ??= setInterval(() => this.trimIfIdle(), this.idleMs).unref();
  }

  /** Drops every kept buffer when none was asked for since the last check. */
  private trimIfIdle(): void {
    if (this.used) {
      this.used = false;
      return;
    }
    this.trim();
  }

  /** Drops every kept buffer (they go to the garbage collector). */
  trim(): void {
    this.free.clear();
    this.freeBytes = 0;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Bytes waiting for reuse (for tests and the status document). */
  get idleBytes(): number {
    return this.freeBytes;
  }
}

/** The power of two at or above `size` (at least 64 KiB). */
export function sizeClass(size: number): number {
  let cap = MIN_CLASS;
  while (cap < size) cap *= 2;
  return cap;
}
