/** The port between the event bus (queue, ids) and a backend (file log, Redis). */

/** An event ready to persist: its id, type, emit time and encoded line (ending in `\n`). */
export interface QueuedEvent {
  readonly id: string;
  readonly type: string;
  readonly timeMs: number;
  readonly line: string;
}

/** Log levels the events subsystem reports at. */
export type EventLogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Where the events subsystem reports problems; never throws. */
export type EventLogger = (level: EventLogLevel, message: string) => void;

/** A backend. The bus calls it from one loop at a time, so implementations need no locking. */
export interface EventPublisher {
  /** Persists `batch` in order, durably (a log, a stream or an outbox), or throws to be retried. */
  deliver(batch: readonly QueuedEvent[]): Promise<void>;
  /** Background work between batches, e.g. draining an outbox once Redis is back. */
  idle(): Promise<void>;
  /** Events persisted locally but not yet where consumers read them (outbox size). */
  backlog(): number;
  /** Calls `listener` when `idle` has new work to do (Redis became ready). */
  onWake(listener: () => void): void;
  close(): Promise<void>;
}
