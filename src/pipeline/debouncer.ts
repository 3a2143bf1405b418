/**
 * Collects items and flushes them once no new item arrived for `quietMs` (or, under a constant
 * stream of events, at the latest after `maxWaitMs`). The clock and timers are injectable.
 */
export interface TimerApi {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: TimerApi = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Debouncer {
  private timer: unknown;
  private firstAt: number | undefined;
  private stopped = false;

  constructor(
    private readonly quietMs: number,
    private readonly maxWaitMs: number,
    private readonly onFlush: () => void,
    private readonly timers: TimerApi = REAL_TIMERS,
  ) {}

  /** Call on every new item. */
  touch(): void {
    if (this.stopped) return;
    const now = this.timers.now();
    this.firstAt ??= now;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.quietMs, this.firstAt + this.maxWaitMs - now));
    this.timer = this.timers.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    this.firstAt = undefined;
    this.onFlush();
  }

  /** Flushes now if anything is waiting. */
  flushNow(): void {
    if (this.timer === undefined) return;
    this.timers.clearTimeout(this.timer);
    this.fire();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
