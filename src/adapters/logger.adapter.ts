/**
 * One logger factory (winston): JSON lines to `<logs>/agent.log`, rotated daily and by size, kept
 * `max_days`; readable lines on a terminal. Modules get child loggers.
 */
import fs from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import type { Logger } from '../ports.js';

export interface LoggerOptions {
  dir: string;
  level: 'error' | 'warn' | 'info' | 'debug';
  maxDays: number;
  maxSizeMb: number;
  /** Also write readable lines to stderr (foreground runs). */
  console: boolean;
}

export interface LoggerHandle {
  logger: Logger;
  child(module: string): Logger;
  close(): Promise<void>;
}

function wrap(w: winston.Logger): Logger {
  return {
    debug: (msg, meta) => void w.debug(msg, meta),
    info: (msg, meta) => void w.info(msg, meta),
    warn: (msg, meta) => void w.warn(msg, meta),
    error: (msg, meta) => void w.error(msg, meta),
  };
}

/** The rotation library writes its audit file (`.<hash>-audit.json`) with the default mode. */
function tightenAuditFiles(dir: string): void {
  try {
    for (const name of fs.readdirSync(dir))
      if (name.endsWith('-audit.json')) fs.chmodSync(path.join(dir, name), 0o600);
  } catch {
    // the folder is not there yet: nothing to tighten
  }
}

export function createLogger(opts: LoggerOptions): LoggerHandle {
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const file = new DailyRotateFile({
    dirname: opts.dir,
    filename: 'agent-%DATE%.log',
    datePattern: 'YYYY-MM-DD',
    maxFiles: `${opts.maxDays}d`,
    maxSize: `${opts.maxSizeMb}m`,
    createSymlink: true,
    symlinkName: 'agent.log',
    options: { mode: 0o600 },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  });
  file.on('new', () => setImmediate(() => tightenAuditFiles(opts.dir)));
  tightenAuditFiles(opts.dir);
  const transports: winston.transport[] = [file];
  if (opts.console) {
    transports.push(
      new winston.transports.Console({
        stderrLevels: ['error', 'warn', 'info', 'debug'],
        format: winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss' }),
          winston.format.printf((info) => {
            const { level, message, timestamp, module, ...rest } = info as Record<string, unknown>;
            const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${String(level)}${module === undefined ? '' : ` [${typeof module === 'string' ? module : ''}]`} ${String(message)}${extra}`;
          }),
        ),
      }),
    );
  }
  const root = winston.createLogger({ level: opts.level, transports });
  return {
    logger: wrap(root),
    child: (module) => wrap(root.child({ module })),
    close: () =>
      new Promise<void>((resolve) => {
        root.on('finish', () => resolve());
        root.end();
        setTimeout(resolve, 2000).unref();
      }),
  };
}
