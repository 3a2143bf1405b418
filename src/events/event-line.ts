/**
 * JSON-lines encoding of events, shared by the file log and the Redis outbox. Pure.
 *
 * The torn-line rule: a writer killed mid-append can leave a line without its `\n`. Readers skip
 * a final line that has no `\n`. When a later append lands right after such a fragment, the two
 * share a line; the reader then recovers the complete event that starts after the fragment (every
 * event line starts with `{"id":"`, and that text cannot occur inside a JSON string because quotes
 * there are escaped).
 */
import { type AliceEvent, isAliceEvent } from './event.model.js';

const EVENT_START = '{"id":"';

/** One line for `event`, ending in `\n`. `id` comes first, which the torn-line recovery relies on. */
export function encodeEventLine(event: AliceEvent): string {
  const ordered: AliceEvent = {
    id: event.id,
    type: event.type,
    time: event.time,
    host: event.host,
    pid: event.pid,
    payload: event.payload,
  };
  return `${JSON.stringify(ordered)}\n`;
}

/** The event on one complete line, or undefined when the line holds no complete event. */
export function decodeEventLine(line: string): AliceEvent | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  const whole = tryParse(text);
  if (whole !== undefined) return whole;
  // A torn fragment followed by a complete event: try each later event start.
  for (let at = text.indexOf(EVENT_START, 1); at > 0; at = text.indexOf(EVENT_START, at + 1)) {
    const event = tryParse(text.slice(at));
    if (event !== undefined) return event;
  }
  return undefined;
}

function tryParse(text: string): AliceEvent | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isAliceEvent(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The result of decoding a chunk of a log. */
export interface DecodedChunk {
  events: AliceEvent[];
  /** Lines (complete or not) that held no event. */
  skipped: number;
}

/**
 * Decodes every complete (`\n`-terminated) line of `text`. Text after the last `\n` is a line
 * still being written, or torn by a crash: it is not decoded and counts as skipped if non-empty.
 */
export function decodeEventLines(text: string): DecodedChunk {
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const events: AliceEvent[] = [];
  let skipped = tail.trim() === '' ? 0 : 1;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const event = decodeEventLine(line);
    if (event === undefined) skipped += 1;
    else events.push(event);
  }
  return { events, skipped };
}
