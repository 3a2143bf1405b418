/**
 * `alice understand` and the agent's understanding lane: shows each asset (a downscaled JPEG, or a
 * few video frames) to a vision model, validates its answer, merges the tags and description into
 * every sidecar (the user's tags win), updates the index, writes the result into the files like
 * `alice tag`, and accounts for the cost against the budget. See docs/understanding.md.
 */
import path from 'node:path';
import { AliceError, ErrorCode, errorMessage } from '../../domain/errors.js';
import {
  MAX_OUTPUT_TOKENS,
  costOf,
  isUnderstoodBy,
  mergeUnderstanding,
  parseAnswer,
  requestCostBound,
  understandingPrompt,
  type Price,
  type ProviderName,
  type UnderstandingAnswer,
} from '../../domain/understanding.js';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { Clock, EventSink, Logger, SpendStore, VisionImages, VisionProvider } from '../../ports.js';
import type { EmbedService, RootSidecar } from './embed.service.js';
import { resolveTargets, type Caller, type TargetResolver } from './tag.service.js';

export interface UnderstandingSettings {
  readonly provider: ProviderName;
  readonly base_url: string;
  readonly model: string;
  readonly api_key_env: string;
  readonly price_per_mtok: Price;
  readonly budget_usd: number;
  readonly categories: readonly string[];
  readonly concurrency: number;
}

export interface UnderstandDeps {
  settings: UnderstandingSettings;
  provider: VisionProvider;
  images: VisionImages;
  spend: SpendStore;
  assets: TargetResolver;
  embed: EmbedService;
  repo: Pick<AssetRepository, 'locationsOf'>;
  events: EventSink;
  clock: Clock;
  logger: Logger;
  /**
   * Runs the writes (sidecars, index, files) of one understood asset. The agent passes its index
   * lane, so the slow part (images, the request) runs outside it and indexing never waits for a model.
   */
  writeLane?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export type UnderstandStatus = 'understood' | 'cached' | 'would_send' | 'failed' | 'over_budget' | 'skipped';

export interface UnderstandItem {
  content_hash: string;
  path: string | null;
  status: UnderstandStatus;
  reason?: string;
  tags?: string[];
  description?: string;
  cost_usd?: number;
}

export interface UnderstandReport {
  dry_run: boolean;
  provider: ProviderName;
  model: string;
  assets: number;
  /** Requests sent to the provider (answered or not). */
  sent: number;
  understood: number;
  cached: number;
  would_send: number;
  failed: number;
  over_budget: number;
  skipped: number;
  /** What this run cost (usage × price). */
  cost_usd: number;
  /** Dry runs: the most the assets that would be sent could cost (an upper bound per request). */
  estimated_cost_usd: number;
  budget_usd: number;
  spent_usd: number;
  items: UnderstandItem[];
}

export interface UnderstandOptions {
  readonly dryRun: boolean;
  readonly force: boolean;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping input order in the output. */
async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

const usd = (n: number): string => `$${n.toFixed(n < 0.01 && n > 0 ? 6 : 4)}`;

export class UnderstandService {
  /** Upper bounds of requests in flight, counted against the budget until their cost is known. */
  private reserved = 0;

  constructor(private readonly deps: UnderstandDeps) {}

  /** `alice understand`: the assets named by `refs`, or every asset with a present file when `all`. */
  async understand(
    refs: readonly string[],
    all: boolean,
    opts: UnderstandOptions,
    caller: Caller,
  ): Promise<UnderstandReport> {
    if (all === refs.length > 0)
      throw new AliceError(
        ErrorCode.INVALID_INPUT,
        all
          ? 'alice understand: give files/hashes or --all, not both'
          : 'alice understand: which files? give files/hashes, or --all for every asset with a file present',
        {
          hint: 'e.g. `alice understand photo.png` or `alice understand --all --dry-run`',
        },
      );
    const hashes = all
      ? await this.deps.embed.presentAssets()
      : (await resolveTargets(this.deps.assets, this.deps.embed, refs, caller)).map((t) => t.hash);
    return this.understandHashes(hashes, opts);
  }

  /** Understands these assets (the agent's lane calls this for new assets). */
  async understandHashes(hashes: readonly string[], opts: UnderstandOptions): Promise<UnderstandReport> {
    const s = this.deps.settings;
    const items = await mapPool(hashes, s.concurrency, (h) => this.one(h, opts));
    const spend = await this.deps.spend.read();
    const report: UnderstandReport = {
      dry_run: opts.dryRun,
      provider: s.provider,
      model: s.model,
      assets: hashes.length,
      sent: 0,
      understood: 0,
      cached: 0,
      would_send: 0,
      failed: 0,
      over_budget: 0,
      skipped: 0,
      cost_usd: 0,
      estimated_cost_usd: 0,
      budget_usd: s.budget_usd,
      spent_usd: spend.spent_usd,
      items: items.map((i) => i.item),
    };
    for (const { item, sent, bound } of items) {
      report[item.status]++;
      if (sent) report.sent++;
      report.cost_usd += item.cost_usd ?? 0;
      if (item.status === 'would_send') report.estimated_cost_usd += bound;
    }
    return report;
  }

  private async one(
    hash: string,
    opts: UnderstandOptions,
  ): Promise<{ item: UnderstandItem; sent: boolean; bound: number }> {
    const s = this.deps.settings;
    const item: UnderstandItem = { content_hash: hash, path: null, status: 'failed' };
    const done = (status: UnderstandStatus, reason?: string, sent = false, bound = 0) => {
      item.status = status;
      if (reason !== undefined) item.reason = reason;
      return { item, sent, bound };
    };
    const sidecars = await this.deps.embed.sidecarsOf(hash);
    const first = sidecars[0];
    if (first === undefined) return done('failed', 'no readable sidecar in any online root');
    const mediaType = first.sidecar.analysis.media_type;
    if (mediaType === 'audio') return done('skipped', 'audio has no picture to understand');
    const location = (await this.deps.repo.locationsOf(hash)).find((l) => l.present);
    item.path = location?.path ?? null;
    if (!opts.force && isUnderstoodBy(first.sidecar.analysis.understanding, s.provider, s.model))
      return done('cached', `already understood by ${s.model}`);
    // A file that does not decode yields no picture: counting it in a dry run overstates the cost.
    if (first.sidecar.damage !== undefined)
      return done('skipped', `damaged (${first.sidecar.damage}): replace the file from a good copy`);
    if (location === undefined) return done('failed', 'no file of this asset is present');
    const bound = requestCostBound(s.price_per_mtok, s.categories, mediaType === 'video' ? 3 : 1);
    if (opts.dryRun) return done('would_send', undefined, false, bound);
    const budget = await this.budgetCheck(bound);
    if (budget !== undefined) return done('over_budget', budget);
    const images = await this.deps.images(location.path, mediaType);
    if (!images.ok) return done('failed', images.reason);
    this.reserved += bound;
    let answer: UnderstandingAnswer;
    let cost: number;
    try {
      const reply = await this.deps.provider.describe({
        images: images.jpegs,
        prompt: understandingPrompt(s.categories, images.jpegs.length),
        maxTokens: MAX_OUTPUT_TOKENS,
      });
      if (!reply.ok) return done('failed', this.explain(reply.reason, reply.status), true);
      cost = costOf(reply.usage, s.price_per_mtok);
      await this.deps.spend.add(cost);
      item.cost_usd = cost;
      const parsed = parseAnswer(reply.text, s.categories);
      if (!parsed.ok)
        return done('failed', `the model's answer was not usable: ${parsed.reason}; nothing written`, true);
      answer = parsed.answer;
    } finally {
      this.reserved -= bound;
    }
    const lane = this.deps.writeLane ?? (<T>(fn: () => Promise<T>): Promise<T> => fn());
    const written = await lane(() => this.write(hash, answer, cost, item));
    return written
      ? done('understood', undefined, true)
      : done('failed', 'its sidecar vanished meanwhile', true);
  }

  /** Why a request of at most `bound` USD may not be sent, or undefined when it may. */
  private async budgetCheck(bound: number): Promise<string | undefined> {
    const budget = this.deps.settings.budget_usd;
    const spent = (await this.deps.spend.read()).spent_usd;
    if (spent + this.reserved + bound <= budget) return undefined;
    return (
      `budget: ${usd(spent)} of ${usd(budget)} spent and one request may cost up to ${usd(bound)}; nothing sent ` +
      '(raise understanding.budget_usd)'
    );
  }

  private explain(reason: string, status: number | undefined): string {
    const env = this.deps.settings.api_key_env;
    if ((status === 401 || status === 403) && (process.env[env] ?? '') === '')
      return `${reason} (no API key: set the ${env} environment variable)`;
    return reason;
  }

  /** Merges the answer into the asset's sidecars as they are now (re-read: the user may have tagged meanwhile). */
  private async write(
    hash: string,
    answer: UnderstandingAnswer,
    cost: number,
    item: UnderstandItem,
  ): Promise<boolean> {
    const sidecars = await this.deps.embed.sidecarsOf(hash);
    if (sidecars.length === 0) return false;
    const s = this.deps.settings;
    const at = this.deps.clock.now().toISOString();
    const meta = { provider: s.provider, model: s.model, at, cost };
    let added: string[] = [];
    let removed: string[] = [];
    for (const [i, rs] of sidecars.entries()) {
      const m = mergeUnderstanding(rs.sidecar.analysis.understanding, answer, meta);
      if (i === 0) ({ added, removed } = m);
      rs.sidecar = {
        ...rs.sidecar,
        analysis: { ...rs.sidecar.analysis, understanding: m.understanding },
        updated_at: at,
      };
    }
    const first = sidecars[0] as RootSidecar;
    await this.deps.embed.saveSidecars(sidecars);
    item.tags = Object.entries(answer.tags).flatMap(([c, vs]) => vs.map((v) => `${c}:${v}`));
    item.description = answer.description;
    // Emitted before the index shows the understanding: its commit makes the event durable first.
    this.emit(first, item, added, removed, cost);
    await this.deps.embed.reindex(first.sidecar);
    try {
      await this.deps.embed.embedAsset(sidecars, { dryRun: false, changes: ['tags', 'description'] });
    } catch (err) {
      // The sidecar and index hold the result; the files catch up on the next `alice embed`.
      this.deps.logger.warn(
        `understand: embedding into the files of ${first.sidecar.content_hash} failed: ${errorMessage(err)}`,
      );
    }
    return true;
  }

  private emit(
    rs: RootSidecar,
    item: UnderstandItem,
    added: string[],
    removed: string[],
    cost: number,
  ): void {
    const sc = rs.sidecar;
    const rel = sc.last_paths?.[0];
    const where = {
      content_hash: sc.content_hash,
      path: item.path ?? (rel === undefined ? '' : path.join(rs.root, rel)),
      root: rs.root,
      media_type: sc.analysis.media_type,
    };
    const s = this.deps.settings;
    this.deps.events.emit('asset.understood', {
      ...where,
      provider: s.provider,
      model: s.model,
      cost_usd: cost,
      tags: item.tags ?? [],
    });
    if (added.length > 0 || removed.length > 0)
      this.deps.events.emit('asset.tagged', { ...where, added, removed });
  }
}
