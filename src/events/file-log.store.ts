/**
 * The file side of events: daily JSON-lines files `events-YYYY-MM-DD.jsonl` (UTC date of the
 * emit), the Redis outbox, and the id clock file. Appends are one `write(2)` on an `O_APPEND`
 * descriptor, so lines of concurrent processes never interleave on a local file system.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../domain/errors.js';
import { isEventId } from './event-id.js';

const DAY_FILE_RE = /^events-(\d{4}-\d{2}-\d{2})\.jsonl$/;
const DAY_MS = 86_400_000;
/** Batches above this are split; each write stays one complete group of lines. */
const MAX_WRITE_BYTES = 256 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** `$ALICE_HOME/events`. */
export function eventsDirOf(home: string): string {
  return path.join(home, 'events');
}

/** The daily file name holding events emitted at `ms`. */
export function dayFileName(ms: number): string {
  return `events-${new Date(ms).toISOString().slice(0, 10)}.jsonl`;
}

/** The UTC day (ms at midnight) of a daily file name, or undefined for other names. */
export function dayOfFile(name: string): number | undefined {
  const m = DAY_FILE_RE.exec(name);
  return m?.[1] === undefined ? undefined : Date.parse(`${m[1]}T00:00:00Z`);
}

/** The daily files in `dir`, oldest first. A missing dir has none. */
export async function listDayFiles(dir: string): Promise<string[]> {
  try {
    const names = await fsp.readdir(dir);
    return names.filter((n) => DAY_FILE_RE.test(n)).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Appends complete lines. Each call's text is written with as few single writes as its size allows. */
export async function appendLines(file: string, lines: readonly string[]): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await fsp.open(file, 'a', 0o600);
  try {
    for (const chunk of groupLines(lines)) {
      const buf = Buffer.from(chunk, 'utf8');
      let done = 0;
      while (done < buf.length) {
        const { bytesWritten } = await handle.write(buf, done, buf.length - done);
        done += bytesWritten;
      }
    }
  } finally {
    await handle.close();
  }
}

function* groupLines(lines: readonly string[]): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    if (chunk !== '' && chunk.length + line.length > MAX_WRITE_BYTES) {
      yield chunk;
      chunk = '';
    }
    chunk += line;
  }
  if (chunk !== '') yield chunk;
}

/** Deletes daily files whose day ended more than `days` days before `now`. Returns their names. */
export async function applyRetention(dir: string, days: number, now: number): Promise<string[]> {
  const cutoff = Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS;
  const removed: string[] = [];
  for (const name of await listDayFiles(dir)) {
    const day = dayOfFile(name);
    if (day === undefined || day >= cutoff) continue;
    await fsp.rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Complete lines read from `offset`, and the offset just after the last `\n` read. */
export interface LineChunk {
  text: string;
  next: number;
}

/**
 * Reads the complete lines after `offset`, at most about 1 MiB (more if one line is longer).
 * Bytes after the last `\n` are left for the next call: a line still being written, or torn.
 */
export async function readCompleteLines(file: string, offset: number): Promise<LineChunk> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { text: '', next: offset };
    throw err;
  }
  try {
    for (let size = READ_CHUNK_BYTES; ; size *= 2) {
      const buf = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buf, 0, size, offset);
      const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (end >= 0) return { text: buf.toString('utf8', 0, end + 1), next: offset + end + 1 };
      if (bytesRead < size) return { text: '', next: offset };
    }
  } finally {
    await handle.close();
  }
}

/** The size of `file`, 0 when it does not exist. */
export async function fileSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
}

const CLOCK_FILE = 'last-id';

/** The last id any producer persisted under `dir` (see `writeClock`), if any. */
export async function readClock(dir: string): Promise<string | undefined> {
  try {
    const text = (await fsp.readFile(path.join(dir, CLOCK_FILE), 'utf8')).trim();
    return isEventId(text) ? text : undefined;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Records `id` as the last id persisted, unless a later one is already there. Written before the
 * events it covers, so after a crash the clock is never behind an event that reached a log.
 */
export async function writeClock(dir: string, id: string): Promise<void> {
  const current = await readClock(dir);
  if (current !== undefined && current >= id) return;
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${CLOCK_FILE}.${process.pid}.${randomBytes(3).toString('hex')}`);
  await fsp.writeFile(tmp, `${id}\n`, { mode: 0o600 });
  await fsp.rename(tmp, path.join(dir, CLOCK_FILE));
}
