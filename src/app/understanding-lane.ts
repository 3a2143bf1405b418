/**
 * The agent's understanding lane (`understanding.enabled`): assets the index lane discovered are
 * handed over once their batch is committed (a low-priority step queued behind it in the index
 * lane), then understood in a lane of their own. Only each result's writes go back through the index
 * lane, so indexing never waits for a model.
 */
import { errorMessage } from '../domain/errors.js';
import { Lane, Priority } from '../pipeline/queue.js';
import type { Logger } from '../ports.js';
import type { UnderstandService } from '../services/tagging/understand.service.js';

export class UnderstandingLane {
  private readonly pending = new Set<string>();
  private handoffQueued = false;
  private stopped = false;
  private readonly lane: Lane;

  constructor(
    private readonly indexLane: Lane,
    private readonly service: () => Promise<UnderstandService>,
    private readonly logger: Logger,
  ) {
    this.lane = new Lane('understand', 1, (name, err) =>
      logger.error('understanding failed', { lane: name, error: errorMessage(err) }),
    );
  }

  /** A new asset was indexed (its `asset.discovered` event). */
  discovered(hash: string): void {
    if (this.stopped) return;
    this.pending.add(hash);
    if (this.handoffQueued) return;
    this.handoffQueued = true;
    // Queued in the index lane behind the batch that discovered the asset: runs once it committed.
    this.indexLane.submit(() => {
      this.handoffQueued = false;
      const hashes = [...this.pending];
      this.pending.clear();
      if (hashes.length > 0 && !this.stopped) this.lane.submit(() => this.run(hashes), Priority.LOW);
      return Promise.resolve();
    }, Priority.LOW);
  }

  private async run(hashes: string[]): Promise<void> {
    const r = await (await this.service()).understandHashes(hashes, { dryRun: false, force: false });
    this.logger.info('understood new assets', {
      understood: r.understood,
      failed: r.failed,
      over_budget: r.over_budget,
      cost_usd: r.cost_usd,
    });
    for (const item of r.items) {
      if (item.status === 'failed')
        this.logger.warn('understanding failed', { content_hash: item.content_hash, reason: item.reason });
    }
    const over = r.items.find((i) => i.status === 'over_budget');
    if (over !== undefined) this.logger.warn('understanding skipped: over budget', { reason: over.reason });
  }

  /** Drops what is queued and waits up to `timeoutMs` for the request in flight. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    this.pending.clear();
    this.lane.clear();
    await this.lane.drain(timeoutMs);
  }

  get waiting(): number {
    return this.lane.waiting + this.pending.size;
  }
}
