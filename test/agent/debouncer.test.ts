/** The debouncer with a fake clock: quiet window, maximum wait under a steady stream, stop, flushNow. */
import { describe, expect, it } from 'vitest';
import { Debouncer, type TimerApi } from '../../src/pipeline/debouncer.js';

/** A manual clock: timers fire only when the test advances time. */
class FakeTimers implements TimerApi {
  private t = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, x]) => x.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

function setup(quiet = 500, maxWait = 5000): { d: Debouncer; clock: FakeTimers; flushes: number[] } {
  const clock = new FakeTimers();
  const flushes: number[] = [];
  const d = new Debouncer(quiet, maxWait, () => flushes.push(clock.now()), clock);
  return { d, clock, flushes };
}

describe('Debouncer', () => {
  it('flushes once, a quiet window after the last touch', () => {
    const { d, clock, flushes } = setup();
    d.touch();
    clock.advance(300);
    d.touch();
    clock.advance(300);
    d.touch();
    clock.advance(499);
    expect(flushes).toEqual([]);
    clock.advance(1);
    expect(flushes).toEqual([1100]);
    clock.advance(10_000);
    expect(flushes).toEqual([1100]);
  });

  it('flushes at the latest after maxWait under a constant stream, then starts a new window', () => {
    const { d, clock, flushes } = setup(500, 2000);
    for (let i = 0; i < 30; i++) {
      d.touch();
      clock.advance(100);
    }
    // touched every 100 ms for 3 s: flushed at 2000 (max wait), then again 2000 ms after the next first touch
    expect(flushes[0]).toBe(2000);
    expect(flushes.length).toBe(1);
    clock.advance(500);
    expect(flushes).toEqual([2000, 3400]);
  });

  it('does nothing without a touch', () => {
    const { clock, flushes } = setup();
    clock.advance(60_000);
    expect(flushes).toEqual([]);
  });

  it('flushNow fires at once when something waits, and not otherwise', () => {
    const { d, clock, flushes } = setup();
    d.flushNow();
    expect(flushes).toEqual([]);
    d.touch();
    clock.advance(10);
    d.flushNow();
    expect(flushes).toEqual([10]);
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    expect(flushes).toEqual([10]);
  });

  it('after stop, pending and later touches never flush', () => {
    const { d, clock, flushes } = setup();
    d.touch();
    d.stop();
    d.touch();
    clock.advance(10_000);
    expect(flushes).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('keeps a single timer however many touches arrive', () => {
    const { d, clock } = setup();
    for (let i = 0; i < 1000; i++) d.touch();
    expect(clock.pending).toBe(1);
  });
});
