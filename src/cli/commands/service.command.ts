/**
 * `alice service install|uninstall|start|stop|restart|status|logs`: run the agent at login
 * (systemd --user / launchd).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Command } from 'commander';
import {
  agentServiceLogs,
  agentServiceStatus,
  controlAgentService,
  installAgentService,
  uninstallAgentService,
} from '../../app/os-service.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { isTemporaryInstall, servicePath } from '../../domain/service-units.js';
import type { ServiceReport } from '../../services/os-service/service-install.service.js';
import type { CliContext } from '../context.js';
import type { Rendered } from '../render.js';

function reportText(verb: string, r: ServiceReport): string[] {
  const lines = [
    `${verb}: ${r.file}${r.written ? ' (written)' : ''}${r.removed === true ? ' (removed)' : ''}`,
  ];
  for (const s of r.steps)
    lines.push(
      `  ${s.ok ? 'ok  ' : 'fail'} ${s.command}${s.output === '' ? '' : `: ${s.output.split('\n')[0] ?? ''}`}`,
    );
  if (r.hint !== undefined) lines.push(`hint: ${r.hint}`);
  return lines;
}

export function registerServiceCommands(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  const service = program
    .command('service')
    .description('install the agent as a per-user OS service (systemd --user on Linux, launchd on macOS)');
  service
    .command('install')
    .description("write the service definition with this installation's paths and start it")
    .option('--dry-run', 'print the definition; write and start nothing')
    .action((o: { dryRun?: boolean }) =>
      run(async (ctx) => {
        const config = ctx.config();
        const cli = fs.realpathSync(
          path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.js'),
        );
        // A dry run writes nothing, so it shows the definition and says it would be refused.
        const temporary = isTemporaryInstall(cli)
          ? `alice runs from a temporary folder (${path.dirname(path.dirname(path.dirname(cli)))}): a service must not point there`
          : null;
        if (temporary !== null && o.dryRun !== true)
          throw new AliceError(ErrorCode.INVALID_INPUT, temporary, {
            hint: 'install alice first (`npm install -g <alice package or folder>`), then run `alice service install` from that installation',
          });
        const node = fs.realpathSync(process.execPath);
        const spec = {
          node,
          cli,
          home: config.home,
          configFile: config.settingsFile,
          logDir: config.paths.logs,
          path: servicePath(process.env['PATH'] ?? '', node, process.platform),
        };
        const r = await installAgentService(spec, o.dryRun === true);
        const text =
          o.dryRun === true
            ? [
                ...(temporary === null ? [] : [`warning: ${temporary}; install would refuse`]),
                `would write ${r.file}:`,
                r.definition ?? '',
              ]
            : reportText('installed', r);
        return { data: temporary === null ? r : { ...r, warning: temporary }, text };
      }),
    );
  service
    .command('uninstall')
    .description('stop the service and remove its definition (the library and index are untouched)')
    .action(() =>
      run(async () => {
        const r = await uninstallAgentService();
        return { data: r, text: reportText('uninstalled', r) };
      }),
    );
  service
    .command('status')
    .description('whether the service is installed and running: exit 0 running, 3 not running, 2 cannot tell')
    .action(() =>
      run(async () => {
        const r = await agentServiceStatus();
        const said =
          r.state === 'running' ? 'running' : r.state === 'stopped' ? 'not running' : 'state unknown';
        return {
          data: r,
          text: [
            `service ${r.installed ? 'installed' : 'not installed'}, ${said}: ${r.file}`,
            ...reportText('status', r).slice(1),
          ],
          exitCode: r.state === 'running' ? 0 : r.state === 'stopped' ? 3 : 2,
        };
      }),
    );
  for (const action of ['start', 'stop', 'restart'] as const)
    service
      .command(action)
      .description(
        action === 'stop'
          ? 'stop the agent service (SIGTERM: it drains its work and exits)'
          : `${action} the agent service`,
      )
      .action(() =>
        run(async () => {
          const r = await controlAgentService(action);
          const ok = r.steps.at(-1)?.ok ?? false;
          return { data: r, text: reportText(action, r), exitCode: ok ? 0 : 2 };
        }),
      );
  service
    .command('logs')
    .description("the last lines of the agent's log ($ALICE_HOME/logs)")
    .option('-n, --lines <n>', 'how many lines', '50')
    .action((o: { lines: string }) =>
      run(async (ctx) => {
        const n = Number.parseInt(o.lines, 10);
        if (!Number.isInteger(n) || n < 1)
          throw new AliceError(ErrorCode.INVALID_INPUT, `--lines must be a positive number, not ${o.lines}`);
        const dir = ctx.config().paths.logs;
        const r = await agentServiceLogs(dir, n);
        if (r.file === null)
          throw new AliceError(ErrorCode.NOT_FOUND, `no agent log in ${dir}`, {
            hint: 'the agent has not run yet: start it with `alice service start` or `alice watch`',
          });
        return { data: r, text: r.lines };
      }),
    );
}
