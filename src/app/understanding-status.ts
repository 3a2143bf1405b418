/** Understanding settings and spend for `alice status` (the spend file is read, never created). */
import { FileSpendStore } from '../adapters/spend-store.adapter.js';
import type { Config } from '../config/config.js';
import { errorMessage } from '../domain/errors.js';

export interface UnderstandingStatus {
  enabled: boolean;
  provider: string;
  model: string;
  budget_usd: number;
  spent_usd: number;
  requests: number;
  error?: string;
}

export async function understandingStatus(config: Config): Promise<UnderstandingStatus> {
  const s = config.settings.understanding;
  const base = { enabled: s.enabled, provider: s.provider, model: s.model, budget_usd: s.budget_usd };
  try {
    const spend = await new FileSpendStore(config.paths.state).read();
    return { ...base, ...spend };
  } catch (err) {
    return { ...base, spent_usd: 0, requests: 0, error: errorMessage(err) };
  }
}

export function understandingLine(u: UnderstandingStatus): string {
  const money = (n: number): string => `$${n.toFixed(4)}`;
  return (
    `understanding: ${u.enabled ? 'on' : 'off'} (${u.model} via ${u.provider}), spent ${money(u.spent_usd)} of ` +
    `${money(u.budget_usd)} in ${u.requests} request${u.requests === 1 ? '' : 's'}${u.error === undefined ? '' : `; ${u.error}`}`
  );
}
