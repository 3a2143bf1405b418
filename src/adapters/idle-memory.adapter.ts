/**
 * Gives memory back once the agent is idle. A catch-up scan or a big batch leaves V8's heap grown
 * with garbage (40 MB used, 63 MB reserved after a 20,000-file catch-up, 18 MB live), and V8 only
 * collects and shrinks it when JavaScript allocates again, which an idle agent hardly does. So
 * when the index lane has been quiet for a while and the heap grew since the last collection, one
 * full garbage collection runs (tens of milliseconds) and V8 returns the freed pages to the OS.
 *
 * The collector is Node's own `gc()`: exposed by `--expose-gc` when the process was started with
 * it, otherwise obtained at run time (`v8.setFlagsFromString('--expose-gc')` and a new context),
 * so neither `alice watch`, `npm start` nor the service unit needs a flag.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import process from 'node:process';

type Collect = () => void;

let collector: Collect | null | undefined;

/** Node's full garbage collection, or null where it cannot be had. */
export function fullGc(): Collect | null {
  if (collector !== undefined) return collector;
  const exposed: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return (collector = exposed as Collect);
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('gc');
    collector = typeof fn === 'function' ? (fn as Collect) : null;
  } catch {
    collector = null;
  }
  return collector;
}

export interface IdleTrimOptions {
  /** True while work runs or is queued: nothing is collected then. */
  busy: () => boolean;
  /** How often the agent looks (default 10 s); a collection needs two quiet looks in a row. */
  intervalMs?: number;
  /** Heap growth since the last collection that makes one worth it (default 8 MB). */
  growthBytes?: number;
  /** Injected for tests. */
  heapUsed?: () => number;
  collect?: Collect | null;
}

/** Collects garbage when the agent turned idle after work (see the file comment). */
export class IdleTrim {
  private timer: NodeJS.Timeout | undefined;
  /** Heap used after the last collection; 0 at first, so the first quiet spell collects. */
  private baseline = 0;
  private quietLooks = 0;
  private readonly heapUsed: () => number;
  private readonly collect: Collect | null;
  /** How many collections ran (status and tests). */
  collections = 0;

  constructor(private readonly opts: IdleTrimOptions) {
    this.heapUsed = opts.heapUsed ?? (() => process.memoryUsage().heapUsed);
    this.collect = opts.collect === undefined ? fullGc() : opts.collect;
  }

  start(): void {
    this.timer = setInterval(() => this.look(), this.opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look: collect when quiet twice in a row and the heap grew enough. True when it collected. */
  look(): boolean {
    if (this.collect === null) return false;
    if (this.opts.busy()) {
      this.quietLooks = 0;
      return false;
    }
    this.quietLooks++;
    if (this.quietLooks < 2) return false;
    if (this.heapUsed() - this.baseline < (this.opts.growthBytes ?? 8 * 1024 * 1024)) return false;
    this.collect();
    this.collections++;
    this.baseline = this.heapUsed();
    return true;
  }
}
