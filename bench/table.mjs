/** The one table printed at the end of `npm run bench`. */
import process from 'node:process';

function fmt(v, unit) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  if (typeof v !== 'number') return String(v);
  const digits = Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

function cells(r) {
  const peer = r.skipped_peer
    ? `skipped: ${r.skipped_peer}`
    : r.peer_value !== undefined
      ? `${fmt(r.peer_value, r.unit)} (${r.peer})`
      : '';
  const value = r.error ? `ERROR: ${r.error}` : r.skipped ? `skipped: ${r.skipped}` : fmt(r.value, r.unit);
  const ratio = typeof r.ratio === 'number' && Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : '';
  const pass = r.error ? 'ERROR' : r.pass === true ? 'pass' : r.pass === false ? 'FAIL' : '';
  return [r.metric, value, peer, ratio, r.goal ?? '', pass];
}

const ORDER = [
  'corpus',
  'hashing',
  'bigfile',
  'index',
  'noop',
  'dupes',
  'near',
  'agent',
  'latency',
  'burst',
  'idle',
  'search',
  'similarity',
];

/** Prints every row (grouped by section), and the detail lines below the table. */
export function printTable(report) {
  const rank = (r) => (ORDER.includes(r.section) ? ORDER.indexOf(r.section) : ORDER.length);
  const rows = [...report.rows].sort((a, b) => rank(a) - rank(b));
  const head = ['metric', 'value', 'peer value', 'ratio', 'goal', 'pass/fail'];
  const body = rows.map(cells);
  const widths = head.map((h, i) =>
    Math.min(i === 0 ? 70 : 48, Math.max(h.length, ...body.map((b) => b[i].length))),
  );
  const line = (c) => c.map((x, i) => (i === 3 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join(' │ ');
  const m = report.machine;
  const out = [
    '',
    `alice bench — ${m.cpus} CPUs (${m.cpu}), load ${m.loadavg_start.map((x) => x.toFixed(1)).join(' ')} → ${m.loadavg_end.map((x) => x.toFixed(1)).join(' ')}, runs ${report.options.runs}, ${report.seconds.toFixed(0)} s`,
    'ratio = how many times faster alice is than the peer (burst: agent ÷ rebuild throughput)',
    line(head),
    widths.map((w) => '─'.repeat(w)).join('─┼─'),
    ...body.map(line),
    '',
    ...rows.filter((r) => r.detail).map((r) => `  ${r.metric}: ${r.detail}`),
    '',
  ];
  process.stdout.write(out.join('\n'));
}
