/** Scheduled jobs (node-cron): validate expressions at start, schedule with no overlap, stop all. */
import { schedule, validate } from 'node-cron';

export interface CronJob {
  stop(): Promise<void>;
}

export function isValidCron(expr: string): boolean {
  return validate(expr);
}

/** Schedules `fn`; runs never overlap, and errors go to `onError` (never an unhandled rejection). */
export function scheduleJob(
  name: string,
  expr: string,
  fn: () => Promise<void>,
  onError: (err: unknown) => void,
): CronJob {
  const task = schedule(
    expr,
    async () => {
      try {
        await fn();
      } catch (err) {
        onError(err);
      }
    },
    { name, noOverlap: true, unref: true },
  );
  return {
    stop: async () => {
      await task.stop();
      await task.destroy();
    },
  };
}
