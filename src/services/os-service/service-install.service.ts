/**
 * `alice service install|uninstall|start|stop|restart|status|logs`: writes the per-user service
 * definition with the right paths and drives it with systemctl --user (Linux) or launchctl
 * (macOS), saying what it did.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../adapters/fs.adapter.js';
import type { CommandResult } from '../../adapters/process.adapter.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import {
  LAUNCHD_LABEL,
  SYSTEMD_UNIT,
  launchdPlist,
  systemdUnit,
  type ServiceSpec,
} from '../../domain/service-units.js';

export interface ServiceDeps {
  platform: NodeJS.Platform;
  homeDir: string;
  uid: number;
  run: (cmd: string, args: readonly string[]) => Promise<CommandResult>;
}

export interface ServiceReport {
  platform: string;
  file: string;
  written: boolean;
  removed?: boolean;
  steps: { command: string; ok: boolean; output: string }[];
  definition?: string;
  hint?: string;
}

/** running: the service manager says it runs; stopped: it does not (or is not installed); unknown: it could not tell. */
export type ServiceState = 'running' | 'stopped' | 'unknown';

function target(deps: ServiceDeps): { file: string; kind: 'systemd' | 'launchd' } {
  if (deps.platform === 'darwin')
    return {
      file: path.join(deps.homeDir, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
      kind: 'launchd',
    };
  if (deps.platform === 'linux')
    return { file: path.join(deps.homeDir, '.config', 'systemd', 'user', SYSTEMD_UNIT), kind: 'systemd' };
  throw new AliceError(ErrorCode.UNSUPPORTED, `service install is not supported on ${deps.platform}`, {
    hint: 'run `alice watch` from your own service manager',
  });
}

async function step(deps: ServiceDeps, report: ServiceReport, cmd: string, args: string[]): Promise<boolean> {
  const r = await deps.run(cmd, args);
  report.steps.push({
    command: [cmd, ...args].join(' '),
    ok: r.ok,
    output: (r.stdout + r.stderr).trim().slice(0, 2000),
  });
  return r.ok;
}

export async function installService(
  deps: ServiceDeps,
  spec: ServiceSpec,
  dryRun: boolean,
): Promise<ServiceReport> {
  const t = target(deps);
  const definition = t.kind === 'systemd' ? systemdUnit(spec) : launchdPlist(spec);
  const report: ServiceReport = {
    platform: deps.platform,
    file: t.file,
    written: false,
    steps: [],
    definition,
  };
  if (dryRun) return report;
  await fs.mkdir(spec.logDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(t.file, definition, 0o644);
  report.written = true;
  if (t.kind === 'systemd') {
    const ok =
      (await step(deps, report, 'systemctl', ['--user', 'daemon-reload'])) &&
      (await step(deps, report, 'systemctl', ['--user', 'enable', '--now', SYSTEMD_UNIT]));
    if (!ok)
      report.hint = `the unit is written; no user systemd session answered. Start it later with: systemctl --user daemon-reload && systemctl --user enable --now ${SYSTEMD_UNIT} (on a server: loginctl enable-linger $USER)`;
  } else {
    await step(deps, report, 'launchctl', ['bootout', `gui/${deps.uid}/${LAUNCHD_LABEL}`]);
    const ok = await step(deps, report, 'launchctl', ['bootstrap', `gui/${deps.uid}`, t.file]);
    if (!ok)
      report.hint = `the agent file is written; load it with: launchctl bootstrap gui/${deps.uid} ${t.file}`;
  }
  return report;
}

export async function uninstallService(deps: ServiceDeps): Promise<ServiceReport> {
  const t = target(deps);
  const report: ServiceReport = { platform: deps.platform, file: t.file, written: false, steps: [] };
  if (t.kind === 'systemd')
    await step(deps, report, 'systemctl', ['--user', 'disable', '--now', SYSTEMD_UNIT]);
  else await step(deps, report, 'launchctl', ['bootout', `gui/${deps.uid}/${LAUNCHD_LABEL}`]);
  try {
    await fs.rm(t.file);
    report.removed = true;
  } catch {
    report.removed = false;
  }
  if (t.kind === 'systemd') await step(deps, report, 'systemctl', ['--user', 'daemon-reload']);
  return report;
}

export async function serviceStatus(
  deps: ServiceDeps,
): Promise<ServiceReport & { installed: boolean; state: ServiceState }> {
  const t = target(deps);
  const report: ServiceReport = { platform: deps.platform, file: t.file, written: false, steps: [] };
  const installed = await fs.stat(t.file).then(
    () => true,
    () => false,
  );
  let state: ServiceState;
  if (t.kind === 'systemd') {
    const r = await deps.run('systemctl', ['--user', 'is-active', SYSTEMD_UNIT]);
    record(report, 'systemctl', ['--user', 'is-active', SYSTEMD_UNIT], r);
    // is-active prints the state; exit 0 active, 3 inactive/failed; no bus → no state printed.
    const word = r.stdout.trim().split('\n')[0] ?? '';
    if (r.ok && word === 'active') state = 'running';
    else if (['inactive', 'failed', 'activating', 'deactivating', 'unknown'].includes(word))
      state = 'stopped';
    else state = 'unknown';
    if (state === 'unknown')
      report.hint =
        'no user systemd session answered (`systemctl --user`); on a server: loginctl enable-linger $USER';
  } else {
    const args = ['print', `gui/${deps.uid}/${LAUNCHD_LABEL}`];
    const r = await deps.run('launchctl', args);
    record(report, 'launchctl', args, r);
    if (r.ok) state = /\bstate = running\b/.test(r.stdout) ? 'running' : 'stopped';
    else
      state =
        /could not find service|not found/i.test(r.stdout + r.stderr) || r.code === 113
          ? 'stopped'
          : 'unknown';
  }
  if (!installed && state === 'unknown') state = 'stopped';
  return { ...report, installed, state };
}

function record(report: ServiceReport, cmd: string, args: readonly string[], r: CommandResult): void {
  report.steps.push({
    command: [cmd, ...args].join(' '),
    ok: r.ok,
    output: (r.stdout + r.stderr).trim().slice(0, 2000),
  });
}

export type ServiceAction = 'start' | 'stop' | 'restart';

/** Starts, stops or restarts the installed service; fails with a hint when it is not installed. */
export async function controlService(deps: ServiceDeps, action: ServiceAction): Promise<ServiceReport> {
  const t = target(deps);
  const report: ServiceReport = { platform: deps.platform, file: t.file, written: false, steps: [] };
  const installed = await fs.stat(t.file).then(
    () => true,
    () => false,
  );
  if (!installed)
    throw new AliceError(ErrorCode.NOT_FOUND, `the service is not installed (${t.file} does not exist)`, {
      hint: 'install it with `alice service install`, or run the agent in the foreground with `alice watch`',
    });
  let ok: boolean;
  if (t.kind === 'systemd') {
    ok = await step(deps, report, 'systemctl', ['--user', action, SYSTEMD_UNIT]);
  } else {
    const svc = `gui/${deps.uid}/${LAUNCHD_LABEL}`;
    if (action === 'stop') ok = await step(deps, report, 'launchctl', ['kill', 'SIGTERM', svc]);
    else {
      // Loaded once by install; bootstrap again in case it was booted out, then (re)start it.
      await step(deps, report, 'launchctl', ['bootstrap', `gui/${deps.uid}`, t.file]);
      ok = await step(deps, report, 'launchctl', ['kickstart', ...(action === 'restart' ? ['-k'] : []), svc]);
    }
  }
  if (!ok)
    report.hint =
      t.kind === 'systemd'
        ? `systemctl --user ${action} ${SYSTEMD_UNIT} failed; see \`alice service logs\` and \`journalctl --user -u ${SYSTEMD_UNIT}\``
        : `launchctl could not ${action} ${LAUNCHD_LABEL}; see \`alice service logs\``;
  return report;
}

/** The last `lines` lines of the agent's newest log file (its own logs, on every platform). */
export async function serviceLogs(
  logDir: string,
  lines: number,
): Promise<{ file: string | null; lines: string[] }> {
  let names: string[];
  try {
    names = (await fs.readdir(logDir)).filter((n) => n.endsWith('.log'));
  } catch {
    return { file: null, lines: [] };
  }
  const stats = await Promise.all(
    names.map(async (n) => ({
      file: path.join(logDir, n),
      mtime: (await fs.stat(path.join(logDir, n))).mtimeMs,
    })),
  );
  const newest = stats.sort((a, b) => b.mtime - a.mtime)[0];
  if (newest === undefined) return { file: null, lines: [] };
  const text = await fs.readFile(newest.file, 'utf8');
  const all = text.split('\n').filter((l) => l.length > 0);
  return { file: newest.file, lines: all.slice(Math.max(0, all.length - lines)) };
}

export function defaultServiceDeps(run: ServiceDeps['run']): ServiceDeps {
  return { platform: process.platform, homeDir: os.homedir(), uid: process.getuid?.() ?? 0, run };
}
