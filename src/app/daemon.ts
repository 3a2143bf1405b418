/**
 * The resident agent: start order (logger → index → status → socket → watchers → schedules),
 * stop in reverse on SIGTERM/SIGINT, draining in-flight work within the stop budget.
 */
import fs from 'node:fs';
import { scheduleJob, type CronJob } from '../adapters/cron.adapter.js';
import { IdleTrim } from '../adapters/idle-memory.adapter.js';
import { createLogger } from '../adapters/logger.adapter.js';
import {
  serveSocket,
  type HandlerAnswer,
  type ProgressMessage,
  type SocketError,
  type SocketRequest,
  type SocketServer,
} from '../adapters/socket.adapter.js';
import type { Config } from '../config/config.js';
import { AliceError, ErrorCode, errorMessage, isAliceError } from '../domain/errors.js';
import { Lane, Priority } from '../pipeline/queue.js';
import type { Progress } from '../ports.js';
import type { StatusService } from '../services/watch/status.service.js';
import type { WatchService } from '../services/watch/watch.service.js';
import { VERSION } from '../version.js';
import { callAgent } from './agent-client.js';
import { createContainer } from './compose.js';
import type { Container } from './container.js';
import { repairCorruptSidecars } from './index-ops.js';
import { OPERATIONS, isOperationName, runOperation } from './operations.js';
import {
  buildIndex,
  checkIndex,
  isIndexCorrupt,
  rebuildIndex,
  setDamagedIndexAside,
} from './index-startup.js';
import type { WebServer } from './web-server.js';
import { UnderstandingLane } from './understanding-lane.js';

const STOP_BUDGET_MS = 8000;

export interface AgentOptions {
  verbose: boolean;
  console: boolean;
}

function toSocketError(err: unknown): SocketError {
  if (isAliceError(err))
    return { code: err.code, message: err.message, hint: err.hint, details: err.details };
  return { code: 'INTERNAL', message: errorMessage(err) };
}

/** A Progress that streams to the socket caller, at most a few ticks a second. */
function streamProgress(send: (msg: ProgressMessage) => void): Progress {
  let pending = 0;
  let last = 0;
  return {
    start: (label, total) => {
      pending = 0;
      send({ kind: 'start', label, total });
    },
    tick: (n = 1, detail) => {
      pending += n;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      send({ kind: 'tick', n: pending, detail });
      pending = 0;
    },
    done: () => {
      if (pending > 0) send({ kind: 'tick', n: pending });
      pending = 0;
      send({ kind: 'done' });
    },
  };
}

export async function runAgent(config: Config, opts: AgentOptions): Promise<number> {
  // Owner-only state: every folder alice keeps under $ALICE_HOME is 0700 (tightened on each start
  // for installs made before), every file in them 0600.
  for (const dir of [config.home, config.paths.logs, config.paths.events, config.paths.state]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  }
  const ping = await callAgent(config, 'agent.ping', {}, 3000).catch((err: unknown) => err);
  if (isAliceError(ping) && ping.code === ErrorCode.AGENT_NOT_RESPONDING) {
    // Its socket accepts connections but nothing answers: a stopped or hung agent holds the index.
    throw new AliceError(
      ErrorCode.AGENT_RUNNING,
      `an agent is running for ${config.home} but ${ping.message}`,
      {
        ...(ping.hint === undefined ? {} : { hint: ping.hint }),
      },
    );
  }
  if (ping !== undefined && !(ping instanceof Error)) {
    throw new AliceError(ErrorCode.AGENT_RUNNING, `an agent is already running for ${config.home}`, {
      hint: 'see `alice status`',
    });
  }
  for (const r of config.roots) if (r.isDefault) fs.mkdirSync(r.path, { recursive: true });
  const s = config.settings;
  const log = createLogger({
    dir: config.paths.logs,
    level: opts.verbose ? 'debug' : s.logging.level,
    maxDays: s.logging.max_days,
    maxSizeMb: s.logging.max_size_mb,
    console: opts.console,
  });
  const logger = log.child('agent');
  let understanding: UnderstandingLane | undefined;
  const container = await createContainer(config, {
    readOnly: false,
    events: true,
    logger: log.child('index'),
    onEvent: (type, payload) => {
      const hash = payload['content_hash'];
      if (type === 'asset.discovered' && typeof hash === 'string') understanding?.discovered(hash);
    },
  });
  const status = container.statusService({
    pid: process.pid,
    version: VERSION,
    started_at: new Date().toISOString(),
    home: config.home,
    socket: config.paths.socket,
    index: config.searchDb,
  });
  status.start(s.agent.status_interval_s * 1000);
  // The agent is built after its lane; a damaged index found by a lane job goes to it.
  const hooks = { onIndexError: (_err: unknown): boolean => false };
  const lane = new Lane('index', 1, (name, err) => {
    if (hooks.onIndexError(err)) return;
    logger.error('job failed', { lane: name, error: errorMessage(err) });
    status.recordError({
      path: '',
      code: isAliceError(err) ? err.code : 'INTERNAL',
      message: errorMessage(err),
    });
  });
  if (s.understanding.enabled) {
    understanding = new UnderstandingLane(
      lane,
      () => container.understandService((fn) => lane.run(fn, Priority.NORMAL)),
      log.child('understand'),
    );
  }
  const agent = new Agent(config, container, status, lane, logger, understanding);
  hooks.onIndexError = (err) => agent.onIndexError(err);
  try {
    await agent.start();
  } catch (err) {
    // A SIGTERM during startup cuts the startup scans short on purpose: a clean stop, not an error.
    if (!agent.isStopping) {
      await agent.stop('startup failed');
      await log.close();
      throw err;
    }
  }
  // Idle, the heap a catch-up or a batch grew is collected and given back (idle-memory.adapter.ts).
  const trim = new IdleTrim({
    busy: () =>
      lane.waiting + lane.inFlight > 0 ||
      status.doc.progress !== null ||
      status.doc.state === 'starting' ||
      status.doc.state === 'scanning',
  });
  trim.start();
  const code = await agent.stopped;
  trim.stop();
  await log.close();
  return code;
}

class Agent {
  private socket: SocketServer | undefined;
  private web: WebServer | undefined;
  private readonly jobs: CronJob[] = [];
  private watch: WatchService | undefined;
  private resolveStopped: (code: number) => void = () => undefined;
  readonly stopped = new Promise<number>((resolve) => (this.resolveStopped = resolve));
  private stopping = false;
  /** The first build runs: read answers say the index is incomplete. */
  private building = false;
  private starting: Promise<void> | undefined;
  /**
   * Progress for the startup build: shows in the status document, and throws once a stop is
   * requested, so a long build ends at its next file instead of holding SIGTERM hostage (its
   * index writes land in one transaction at the end, or not at all).
   */
  private readonly startupProgress: Progress;

  constructor(
    private readonly config: Config,
    private readonly container: Container,
    private readonly status: StatusService,
    private readonly lane: Lane,
    private readonly logger: ReturnType<ReturnType<typeof createLogger>['child']>,
    private readonly understanding?: UnderstandingLane,
  ) {
    const shown = status.progress();
    this.startupProgress = {
      start: (label, total) => {
        this.throwIfStopping();
        shown.start(label, total);
      },
      tick: (n, detail) => {
        this.throwIfStopping();
        shown.tick(n, detail);
      },
      done: () => shown.done(),
    };
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  private throwIfStopping(): void {
    if (this.stopping) throw new Error('stop requested');
  }

  start(): Promise<void> {
    this.starting ??= this.startSteps();
    return this.starting;
  }

  /** Each step checks for a stop requested meanwhile; stop() waits for this to return. */
  private async startSteps(): Promise<void> {
    const { config, container, status, logger } = this;
    process.once('SIGTERM', () => void this.stop('SIGTERM'));
    process.once('SIGINT', () => void this.stop('SIGINT'));
    const mustBuild = await checkIndex(container, logger, status);
    if (this.stopping) return;
    // The socket answers from the first second: reads see the last committed state meanwhile.
    this.socket = await serveSocket(
      config.paths.socket,
      (req, send) => this.handle(req, send),
      toSocketError,
    );
    container.events.emit('agent.started', {
      version: VERSION,
      roots: config.roots.map((r) => r.path),
    });
    // The web UI, like the socket, answers while the index is being built.
    if (config.settings.serve.enabled) await this.startWeb();
    if (this.stopping) return;
    if (mustBuild) {
      // In the index lane: writes that arrive meanwhile are queued behind the build.
      this.building = true;
      try {
        await this.lane.run(() => buildIndex(container, logger, status, this.startupProgress), Priority.HIGH);
      } finally {
        this.building = false;
        this.startupProgress.done();
      }
      await this.refreshCounts();
    }
    if (this.stopping) return;
    this.watch = container.watchService({ status, lane: this.lane, logger });
    await this.watch.start();
    if (this.stopping) return;
    this.schedule();
    logger.info('agent watching', { roots: config.roots.map((r) => r.path), pid: process.pid });
  }

  /** `serve.enabled`: the web page, running operations in this process like socket requests. */
  private async startWeb(): Promise<void> {
    const { startWebServer } = await import('./web-server.js');
    this.web = await startWebServer(
      this.config,
      async (op, params) => {
        const a = await this.handle({ id: 0, op, params, confine: true, cwd: '/' }, () => undefined);
        return { result: a.result, via: 'agent', ...(a.meta === undefined ? {} : { meta: a.meta }) };
      },
      {
        liveStatus: () => this.status.doc,
        log: (level, message) => this.logger[level](message),
      },
    );
    this.logger.info('serving the web page', { url: this.web.url });
  }

  private schedule(): void {
    const s = this.config.settings;
    const onError = (err: unknown): void =>
      this.logger.error('scheduled job failed', { error: errorMessage(err) });
    this.jobs.push(
      scheduleJob(
        'reconcile',
        s.watch.reconcile_cron,
        () => this.lane.run(async () => void (await this.watch?.catchUp()), Priority.LOW),
        onError,
      ),
    );
    const integrity = this.container.integrityService();
    this.jobs.push(
      scheduleJob(
        'verify',
        s.verify.cron,
        async () => {
          const r = await this.lane.run(() => integrity.run(), Priority.LOW);
          this.status.doc.last_verification = {
            at: r.at,
            checked: r.checked,
            problems: r.mismatches.length,
            elapsed_ms: r.elapsed_ms,
            kind: 'integrity',
          };
          for (const m of r.mismatches)
            this.status.recordError({
              path: m.path,
              code: ErrorCode.HASH_MISMATCH,
              message: `content changed without a new mtime: ${m.actual.slice(0, 12)}… ≠ ${m.expected.slice(0, 12)}…`,
            });
          this.status.changed();
        },
        onError,
      ),
    );
    this.jobs.push(
      scheduleJob(
        'consistency',
        s.verify.consistency_cron,
        async () => {
          const started = Date.now();
          const r = await this.lane.run(
            async () =>
              (await this.container.verifyService()).run({
                full: false,
                progress: { start: () => undefined, tick: () => undefined, done: () => undefined },
                random: () => 1,
              }),
            Priority.LOW,
          );
          // A garbled sidecar the index still describes is written back now, before anything
          // (an update that re-reads it, a rebuild) could start it afresh without its user data.
          const repair = await this.lane.run(
            () => repairCorruptSidecars(this.container, r, { dryRun: false }),
            Priority.LOW,
          );
          for (const x of repair.repaired)
            this.logger.warn('garbled sidecar written back from the index', {
              file: x.file,
              content_hash: x.content_hash,
              kept_as: x.movedTo,
            });
          this.status.doc.last_consistency = {
            at: new Date().toISOString(),
            checked: r.files_checked,
            problems: r.problems.length - repair.repaired.length,
            elapsed_ms: Date.now() - started,
            kind: 'consistency',
          };
          this.status.changed();
        },
        onError,
      ),
    );
  }

  /**
   * Socket requests: reads run at once on the index's read connection (the last committed state,
   * with the running pass's progress attached); writes go through the index lane, queued behind
   * a running scan, and stream their progress to the caller.
   */
  private async handle(req: SocketRequest, send: (msg: ProgressMessage) => void): Promise<HandlerAnswer> {
    const { op, params, confine, cwd } = req;
    if (op === 'agent.ping') return { result: { pid: process.pid, version: VERSION } };
    if (op === 'agent.status') {
      await this.refreshCounts();
      return { result: this.status.doc };
    }
    if (!isOperationName(op)) throw new AliceError(ErrorCode.INVALID_INPUT, `unknown operation ${op}`);
    const ctx = {
      container: this.container,
      progress: streamProgress(send),
      cwd: confine ? '/' : cwd,
      remote: confine,
    };
    try {
      if (!OPERATIONS[op].writes) {
        const result = await runOperation(ctx, op, params);
        if (!this.building) return { result };
        // Between two phases of the build (walking, grouping, writing) there is no x of y.
        const p = this.status.doc.progress;
        const building =
          p === null ? { phase: 'scanning' } : { phase: p.phase, done: p.done, total: p.total };
        return { result, meta: { building } };
      }
      return { result: await this.lane.run(() => runOperation(ctx, op, params), Priority.HIGH) };
    } catch (err) {
      if (!this.onIndexError(err)) throw err;
      throw new AliceError(ErrorCode.INDEX_CORRUPT, 'the index was damaged and is being rebuilt', {
        hint: 'try again in a moment: the agent set the damaged file aside and is rebuilding it from the files and sidecars',
        cause: err,
      });
    }
  }

  private recovering: Promise<void> | undefined;

  /**
   * A query found the index damaged while the agent runs (damage the startup probe did not reach,
   * or that happened since): set the file aside and rebuild it once, in the index lane. Returns
   * true when `err` was such damage.
   */
  onIndexError(err: unknown): boolean {
    if (!isIndexCorrupt(err)) return false;
    if (this.recovering !== undefined || this.stopping) return true;
    const { container, logger, status } = this;
    this.recovering = this.lane
      .run(async () => {
        setDamagedIndexAside(container, logger, status, err);
        await rebuildIndex(container, logger, status, this.startupProgress);
      }, Priority.HIGH)
      .catch((e: unknown) => logger.error('rebuilding the damaged index failed', { error: errorMessage(e) }))
      .finally(() => (this.recovering = undefined));
    return true;
  }

  /**
   * Duplicate groups as the index has them now (the read connection: never waits for a scan), so
   * `alice status` agrees with `alice dupes`: copies in project folders are not duplicates.
   */
  private async refreshCounts(): Promise<void> {
    try {
      const projectRoots = this.container.config.roots.filter((r) => r.kind === 'project').map((r) => r.path);
      const counts = await (await this.container.repo()).counts(projectRoots);
      this.status.doc.counters.duplicates = counts.duplicates;
    } catch (err) {
      this.logger.debug('could not count duplicates for the status', { error: errorMessage(err) });
    }
  }

  /** `reason` is published in `agent.stopped`: the signal, or why the agent gave up. */
  async stop(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.status.setState('stopping');
    this.logger.info('stopping');
    // Understanding is optional work: what is queued is dropped (`alice understand --all` catches up).
    await this.understanding?.stop(2000);
    const drained = (await this.watch?.stop(STOP_BUDGET_MS)) ?? true;
    // Stopped during startup: the running step notices at its next file and start() returns.
    await this.starting?.catch(() => undefined);
    if (!drained) this.logger.warn('stop budget reached: unfinished paths are picked up by the next start');
    for (const job of this.jobs) await job.stop().catch(() => undefined);
    await this.web?.close();
    await this.socket?.close();
    this.container.events.emit('agent.stopped', { reason, drained });
    this.status.setState('stopped');
    // Closing the container persists the events (agent.stopped included) and the index; the last
    // status written after it counts only what is really left undelivered (a Redis outbox).
    try {
      await this.container.close();
    } finally {
      await this.status.stop();
    }
    this.resolveStopped(0);
  }
}
