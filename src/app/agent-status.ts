/** The agent's status file, read for `alice status` and the MCP health tool (no socket call). */
import type { Config } from '../config/config.js';
import { readStatus, type StatusReading } from '../services/watch/status.service.js';

export function readAgentStatus(config: Config): Promise<StatusReading> {
  return readStatus(config.paths.status, config.settings.agent.stale_after_s);
}
