/**
 * Table rows from the JSON of bench/search.bench.mjs and bench/similarity-quality.bench.mjs,
 * with the goals of the search issue.
 */

const QUERY_GOALS = [
  ['tag query', 20],
  ['prompt word query', 50],
  ['find_similar', 30],
];

function searchRows(j) {
  const rows = [];
  for (const qy of j.queries ?? []) {
    const goal = QUERY_GOALS.find(([prefix]) => qy.label.startsWith(prefix));
    const name = goal ? goal[0] : qy.label.split(' (')[0];
    rows.push({
      section: 'search',
      metric: `search p50: ${name}, ${j.rows.toLocaleString('en')} rows`,
      value: qy.p50_ms,
      unit: 'ms',
      goal: goal ? `≤ ${goal[1]} ms` : undefined,
      pass: goal ? qy.p50_ms <= goal[1] : undefined,
      detail: `${qy.label}: p95 ${qy.p95_ms.toFixed(1)} ms over ${qy.runs} queries, ${qy.mean_hits.toFixed(0)} hits on average`,
    });
  }
  const n = j.near_duplicates;
  if (n) {
    rows.push({
      section: 'search',
      metric: `near-dup grouping, ${n.n.toLocaleString('en')} pHashes at t=6 (vs brute force)`,
      value: n.mih_ms / 1000,
      unit: 's',
      peer: 'brute force',
      peer_value: n.brute_ms_extrapolated / 1000,
      ratio: n.speedup,
      goal: n.n >= 100_000 ? '≤ 10 s' : '≤ 10 s at 100,000',
      pass: n.n >= 100_000 ? n.mih_ms <= 10_000 && n.subsample_groups_equal : undefined,
      detail: `groups equal to brute force on ${n.brute_subsample.toLocaleString('en')} hashes: ${n.subsample_groups_equal}${n.extrapolated ? '; brute force extrapolated by n² from that subsample' : ''}`,
    });
  }
  return rows;
}

function similarityRows(j) {
  const t = 6;
  const rows = [];
  // `phash+crops` is what `alice dupes --near` compares; plain pHash is kept for comparison.
  for (const [kind, label, goals] of [
    ['phash+crops', 'pHash + crop hashes', true],
    ['phash', 'pHash alone', false],
  ]) {
    const ph = j.results?.[kind];
    if (!ph) continue;
    let fpr = 0;
    for (const v of j.variants) {
      const cell = ph[v]?.[t];
      if (!cell) continue;
      fpr = Math.max(fpr, cell.false_positive_rate);
      const goal = goals ? '≥ 98%' : undefined;
      rows.push({
        section: 'similarity',
        metric: `${label} recall at t=${t}: ${v} (${j.bases} bases, seed ${j.seed})`,
        value: cell.recall * 100,
        unit: '%',
        goal,
        pass: goal ? cell.recall >= 0.98 : undefined,
      });
    }
    fpr = Math.max(fpr, ph.unrelated_bases?.[t]?.false_positive_rate ?? 0);
    rows.push({
      section: 'similarity',
      metric: `${label} false-positive pairs at t=${t} (worst variant)`,
      value: fpr * 100,
      unit: '%',
      goal: goals ? '≤ 0.01%' : undefined,
      pass: goals ? fpr <= 0.0001 : undefined,
    });
  }
  return rows;
}

/** Rows for a finished external bench. */
/** Rows of bench/serve.bench.mjs: the web page's goals (issue 18). */
function serveRows(j) {
  const n = j.assets.toLocaleString('en');
  return [
    {
      section: 'serve',
      metric: `web page: first 100 thumbnails complete, warm cache, ${n} assets`,
      value: j.warm_page_p50_ms,
      unit: 'ms',
      goal: '≤ 1500 ms',
      pass: j.assets >= 10_000 ? j.warm_page_p50_ms <= 1500 : undefined,
      detail: `p95 ${j.warm_page_p95_ms.toFixed(0)} ms over ${j.runs} page opens (search + 100 thumbnails, 6 at a time); cold ${j.cold_page_ms.toFixed(0)} ms`,
    },
    {
      section: 'serve',
      metric: `web page: search server time (first 100), ${n} assets`,
      value: j.search_server_p50_ms,
      unit: 'ms',
      goal: '≤ 150 ms',
      pass: j.assets >= 10_000 ? j.search_server_p50_ms <= 150 : undefined,
      detail: `p95 ${j.search_server_p95_ms.toFixed(1)} ms (Server-Timing); round trip p50 ${j.search_roundtrip_p50_ms.toFixed(1)} ms; facets, asked in parallel, p50 ${j.facets_server_p50_ms.toFixed(1)} ms`,
    },
  ];
}

export function externalRows(name, json) {
  if (name === 'serve') return serveRows(json);
  return name === 'search' ? searchRows(json) : similarityRows(json);
}
