/** `alice service`: the agent as a per-user OS service, wired to the real process runner. */
import { runCommand } from '../adapters/process.adapter.js';
import {
  controlService,
  defaultServiceDeps,
  installService,
  serviceLogs,
  serviceStatus,
  uninstallService,
  type ServiceAction,
  type ServiceReport,
  type ServiceState,
} from '../services/os-service/service-install.service.js';
import type { ServiceSpec } from '../domain/service-units.js';

const deps = () => defaultServiceDeps(runCommand);

export function installAgentService(spec: ServiceSpec, dryRun: boolean): Promise<ServiceReport> {
  return installService(deps(), spec, dryRun);
}

export function uninstallAgentService(): Promise<ServiceReport> {
  return uninstallService(deps());
}

export function agentServiceStatus(): Promise<ServiceReport & { installed: boolean; state: ServiceState }> {
  return serviceStatus(deps());
}

export function controlAgentService(action: ServiceAction): Promise<ServiceReport> {
  return controlService(deps(), action);
}

export function agentServiceLogs(
  logDir: string,
  lines: number,
): Promise<{ file: string | null; lines: string[] }> {
  return serviceLogs(logDir, lines);
}
