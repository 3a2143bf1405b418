/**
 * Event ids: `<13-digit ms>-<6-digit sequence>-<4-hex nonce>`, e.g. `1718000000000-000003-9f1c`.
 * Fixed width, so plain string comparison is emit order. Pure: the clock and nonce are injected.
 *
 * - ms: the id clock, `max(wall clock, last id's ms)`, so it never goes backwards when the wall
 *   clock does (NTP step) or when a process restarts within the same millisecond.
 * - sequence: counts ids within one ms of the id clock; on overflow the id clock moves 1 ms ahead.
 * - nonce: random per producer instance, so two processes emitting in the same ms never collide.
 */

export const EVENT_ID_RE = /^\d{13}-\d{6}-[0-9a-f]{4}$/;
const MAX_SEQ = 999_999;

/** True when `value` is a well-formed event id. */
export function isEventId(value: string): boolean {
  return EVENT_ID_RE.test(value);
}

/** The id clock part of an id, in ms since the epoch. */
export function eventIdMs(id: string): number {
  return Number(id.slice(0, 13));
}

/** The smallest possible id at `ms`: every id emitted at or after `ms` compares `>=` it. */
export function lowerBoundId(ms: number): string {
  return `${String(Math.max(0, Math.trunc(ms))).padStart(13, '0')}-000000-0000`;
}

interface IdState {
  ms: number;
  seq: number;
}

function parseState(id: string): IdState | undefined {
  if (!isEventId(id)) return undefined;
  return { ms: eventIdMs(id), seq: Number(id.slice(14, 20)) };
}

/**
 * Makes strictly increasing ids. Seed it with the last id a previous producer persisted (see
 * `EventBus`), so a restarted process continues after it even within the same millisecond.
 */
export class EventIdGenerator {
  private last: IdState = { ms: 0, seq: -1 };

  constructor(
    private readonly now: () => number,
    private readonly nonce: string,
  ) {
    if (!/^[0-9a-f]{4}$/.test(nonce)) throw new Error(`event id nonce must be 4 hex digits: ${nonce}`);
  }

  /** Continues after `id` if it is later than anything generated so far. Ignores malformed ids. */
  seed(id: string | undefined): void {
    const state = id === undefined ? undefined : parseState(id);
    if (state !== undefined && compareState(state, this.last) > 0) this.last = state;
  }

  /** The next id; always greater than every id generated or seeded before. */
  next(): string {
    const now = Math.trunc(this.now());
    let { ms, seq } = this.last;
    if (now > ms) {
      ms = now;
      seq = 0;
    } else if (seq >= MAX_SEQ) {
      ms += 1;
      seq = 0;
    } else {
      seq += 1;
    }
    this.last = { ms, seq };
    return `${String(ms).padStart(13, '0')}-${String(seq).padStart(6, '0')}-${this.nonce}`;
  }
}

function compareState(a: IdState, b: IdState): number {
  return a.ms === b.ms ? a.seq - b.seq : a.ms - b.ms;
}
