/** A counting semaphore: at most `limit` calls of `run` in flight, the rest wait in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= Math.max(1, this.limit))
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter (active stays counted for it).
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}
