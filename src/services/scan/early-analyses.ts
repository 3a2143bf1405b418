/**
 * Analyses started before a pass resolves its assets: a file whose content has no sidecar yet
 * (and was not seen before in this pass) will be analysed anyway, so its decode starts as soon as
 * its hash is known. A rebuild starts them while it is still hashing (ScanService.startEarly
 * decides), so the hash phase and the decodes overlap; the agent starts them for a settled batch
 * while the batch before is indexed (ScanService.analyseAhead). The resolve step takes the
 * finished analysis.
 */
import type { MediaInfo } from '../../domain/media.js';
import { Limiter } from '../../pipeline/limiter.js';
import type { Analyser, Analysis } from '../../ports.js';

interface Started {
  readonly path: string;
  readonly analysis: Promise<Analysis>;
}

export class EarlyAnalyses {
  private readonly started = new Map<string, Started>();
  /** Hashes being checked or analysed: claimed once, so two copies never start two analyses. */
  private readonly claimed = new Set<string>();
  private readonly slots: Limiter;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly analyser: Analyser,
    /** Analyses running at once; a caller of `start` waits while this many are. */
    limit: number,
    /**
     * Analyses started and not taken yet, at most: the resolve step takes them only once every
     * file is hashed, so in a tree of 100,000 small files they would all wait in memory.
     */
    private readonly maxHeld = 2048,
  ) {
    this.slots = new Limiter(limit);
  }

  private closed = false;

  /**
   * True while another analysis may start: fewer than `maxHeld` are waiting to be taken, and the
   * pass has not begun to take them.
   */
  get open(): boolean {
    return !this.closed && this.started.size < this.maxHeld;
  }

  /** No analysis starts any more: the pass is taking them (what was not started, it does itself). */
  close(): void {
    this.closed = true;
  }

  /** Claims `hash` for an early analysis; false when it was claimed already. */
  claim(hash: string): boolean {
    if (this.claimed.has(hash)) return false;
    this.claimed.add(hash);
    return true;
  }

  /**
   * Starts analysing `path` (content `hash`, claimed by the caller) once fewer than `limit` run:
   * resolves when it has started, not when it ends, so the hashing goes on meanwhile. `bytes`
   * (the file as hashed) go to the analyser, which gives them back when done.
   */
  async start(hash: string, path: string, media: MediaInfo, bytes?: Buffer): Promise<void> {
    let begin: () => void = () => undefined;
    const begun = new Promise<void>((resolve) => (begin = resolve));
    const analysis = this.slots.run(() => {
      begin();
      return this.analyser.analyse(path, media, bytes);
    });
    // Never an unhandled rejection: a failure is seen by whoever takes it.
    const done = analysis.catch(() => undefined).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    this.started.set(hash, { path, analysis });
    await begun;
  }

  /**
   * The analysis of `hash` started for `path`, taken out; undefined when none was started, or it
   * was of another copy of the content (an analysis reads the file name: it is redone for `path`).
   */
  take(hash: string, path: string): Promise<Analysis> | undefined {
    const s = this.started.get(hash);
    if (s === undefined || s.path !== path) return undefined;
    this.started.delete(hash);
    return s.analysis;
  }

  /** Counts `work` (what starts analyses) among what `settle` waits for. */
  track(work: Promise<unknown>): void {
    const done = work.catch(() => undefined).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** Waits for every analysis started, taken or not, so none runs on after the scan. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    this.started.clear();
  }
}
