/**
 * The agent's work lanes (p-queue): bounded concurrency, priorities, and one place that logs job
 * failures so no promise floats.
 */
import PQueue from 'p-queue';

export const Priority = { LOW: 0, NORMAL: 5, HIGH: 10 } as const;

export class Lane {
  private readonly queue: PQueue;

  constructor(
    readonly name: string,
    concurrency: number,
    private readonly onError: (name: string, err: unknown) => void,
  ) {
    this.queue = new PQueue({ concurrency });
  }

  /** Runs `fn` in the lane and returns its result. */
  run<T>(fn: () => Promise<T>, priority: number = Priority.NORMAL): Promise<T> {
    return this.queue.add(fn, { priority });
  }

  /** Fire-and-forget: failures are logged through the lane's error handler. */
  submit(fn: () => Promise<unknown>, priority: number = Priority.NORMAL): void {
    this.run(fn, priority).catch((err: unknown) => this.onError(this.name, err));
  }

  get waiting(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.queue.pending;
  }

  pause(): void {
    this.queue.pause();
  }

  clear(): void {
    this.queue.clear();
  }

  /** Resolves when the lane is empty and idle, or after `timeoutMs`; true when it drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const idle = this.queue.onIdle().then(() => true as const);
    const drained = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return drained;
  }
}
