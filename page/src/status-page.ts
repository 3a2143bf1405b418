/** The agent's status, polled every second: state, roots, scan progress, queue, counters, errors. */
import { getJson, h } from './dom.js';

interface StatusAnswer {
  agent: {
    running: boolean;
    reason: string | null;
    state: string | null;
    pid: number | null;
    heartbeat_age_s: number | null;
    status: {
      roots?: { path: string; state: string; note?: string }[];
      queue?: Record<string, number>;
      counters?: Record<string, number>;
      last_errors?: { at: string; path: string; code: string; message: string }[];
      skipped?: {
        count: number;
        files: { at: string; path: string; code: string; message: string; reason: string }[];
      };
      progress?: { phase?: string; done?: number; total?: number | null; eta_s?: number | null } | null;
    } | null;
  };
  index: Record<string, unknown>;
}

function table(rec: Record<string, unknown> | undefined): HTMLElement {
  return h(
    'table',
    {},
    Object.entries(rec ?? {}).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v)))),
  );
}

function progressOf(p: NonNullable<StatusAnswer['agent']['status']>['progress']): HTMLElement | null {
  if (p === null || p === undefined || p.done === undefined) return null;
  const total = p.total ?? null;
  const pct = total !== null && total > 0 ? Math.min(100, (100 * p.done) / total) : 0;
  const bar = h('div');
  bar.style.width = `${pct.toFixed(1)}%`;
  const eta = p.eta_s === null || p.eta_s === undefined ? '' : `, about ${Math.ceil(p.eta_s)} s left`;
  return h(
    'div',
    { id: 'progress' },
    h('div', {}, `${p.phase ?? 'working'}: ${p.done} of ${total ?? '?'}${eta}`),
    h('div', { class: 'progress' }, bar),
  );
}

function render(main: HTMLElement, s: StatusAnswer): void {
  const a = s.agent;
  const doc = a.status;
  const state = a.running ? (a.state ?? 'running') : `not running (${a.reason ?? 'unknown'})`;
  main.replaceChildren(
    h('h2', {}, 'Agent'),
    h(
      'p',
      { id: 'agent-state', 'data-state': a.running ? (a.state ?? '') : 'not-running' },
      state,
      a.pid === null ? '' : `, pid ${a.pid}`,
      a.heartbeat_age_s === null ? '' : `, heartbeat ${a.heartbeat_age_s} s ago`,
    ),
    progressOf(doc?.progress) ?? '',
    h('h3', {}, 'Roots'),
    h(
      'table',
      { id: 'roots' },
      (doc?.roots ?? []).map((r) =>
        h(
          'tr',
          {},
          h('td', {}, r.state === 'online' ? 'online' : r.state),
          h('td', {}, r.path),
          h('td', { class: 'note' }, r.note ?? ''),
        ),
      ),
    ),
    h('h3', {}, 'Queue'),
    h('div', { id: 'queue' }, table(doc?.queue)),
    h('h3', {}, 'Since start'),
    h('div', { id: 'counters' }, table(doc?.counters)),
    h('h3', {}, 'Index'),
    h('div', { id: 'index' }, table(s.index)),
    h('h3', {}, 'Recent errors'),
    h(
      'ul',
      { id: 'errors' },
      (doc?.last_errors ?? [])
        .slice(0, 20)
        .map((e) => h('li', {}, `${e.at} ${e.code} ${e.path}: ${e.message}`)),
    ),
    h('h3', {}, `Skipped files (${doc?.skipped?.count ?? 0})`),
    h(
      'ul',
      { id: 'skipped' },
      (doc?.skipped?.files ?? []).map((e) => h('li', {}, `${e.reason} ${e.path}: ${e.message}`)),
    ),
  );
}

export function renderStatus(main: HTMLElement): void {
  const tick = async (): Promise<void> => {
    try {
      render(main, await getJson<StatusAnswer>('/api/status'));
    } catch (err) {
      main.replaceChildren(h('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
    }
    setTimeout(() => void tick(), 1000);
  };
  void tick();
}
