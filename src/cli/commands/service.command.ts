/** `alice service install|uninstall|status`: run the agent at login (systemd --user / launchd). */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Command } from 'commander';
import { agentServiceStatus, installAgentService, uninstallAgentService } from '../../app/os-service.js';
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
        const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
        const spec = {
          node: process.execPath,
          cli,
          home: config.home,
          configFile: config.settingsFile,
          logDir: config.paths.logs,
          path: process.env['PATH'] ?? '/usr/bin:/bin',
        };
        const r = await installAgentService(spec, o.dryRun === true);
        const text =
          o.dryRun === true ? [`would write ${r.file}:`, r.definition ?? ''] : reportText('installed', r);
        return { data: r, text };
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
    .description('whether the service is installed and active')
    .action(() =>
      run(async () => {
        const r = await agentServiceStatus();
        return {
          data: r,
          text: [
            `service ${r.installed ? 'installed' : 'not installed'}: ${r.file}`,
            ...reportText('status', r).slice(1),
          ],
          exitCode: r.installed ? 0 : 3,
        };
      }),
    );
}
