/** A one-line progress bar on stderr when it is a terminal; silent otherwise. */
import type { Progress } from '../ports.js';

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { start: () => undefined, tick: () => undefined, done: () => undefined };
  let label = '';
  let total: number | undefined;
  let count = 0;
  let last = 0;
  let started = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 50));
    const rate = count / Math.max((now - started) / 1000, 0.001);
    let line: string;
    if (total !== undefined && total > 0) {
      const filled = Math.round((count / total) * width);
      line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${count}/${total} ${rate.toFixed(0)}/s`;
    } else {
      line = `${label} ${count} ${rate.toFixed(0)}/s`;
    }
    stream.write(`\r\x1b[2K${line}`);
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      count = 0;
      started = Date.now();
      draw(true);
    },
    tick(n = 1) {
      count += n;
      draw(false);
    },
    done() {
      stream.write('\r\x1b[2K');
    },
  };
}
