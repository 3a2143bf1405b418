/**
 * `alice service install|uninstall|status`: writes the per-user service definition with the right
 * paths and loads it with systemctl --user (Linux) or launchctl (macOS), saying what it did.
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

export async function serviceStatus(deps: ServiceDeps): Promise<ServiceReport & { installed: boolean }> {
  const t = target(deps);
  const report: ServiceReport = { platform: deps.platform, file: t.file, written: false, steps: [] };
  const installed = await fs.stat(t.file).then(
    () => true,
    () => false,
  );
  if (t.kind === 'systemd') await step(deps, report, 'systemctl', ['--user', 'is-active', SYSTEMD_UNIT]);
  else await step(deps, report, 'launchctl', ['print', `gui/${deps.uid}/${LAUNCHD_LABEL}`]);
  return { ...report, installed };
}

export function defaultServiceDeps(run: ServiceDeps['run']): ServiceDeps {
  return { platform: process.platform, homeDir: os.homedir(), uid: process.getuid?.() ?? 0, run };
}
