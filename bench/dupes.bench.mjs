/**
 * Duplicates through the real CLI against the corpus's ground truth: `alice dupes` against
 * `jdupes -r` and `rmlint`, and `alice dupes --near` against `findimagedupes`, with recall and
 * false positives of both on the known variants.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { alice, log, median, run, which } from './lib.mjs';

/** Groups of the truth: each family (a base, its copies, its variants) keyed by base path. */
function truth(manifest, root) {
  const byPath = new Map();
  const byHash = new Map();
  for (const f of manifest.files) {
    byPath.set(path.join(root, f.rel), f);
    if (!byHash.has(f.sha256)) byHash.set(f.sha256, f);
  }
  const copies = manifest.files.filter((f) => f.kind === 'copy');
  const exactGroups = new Set(copies.map((f) => f.family)).size;
  return { byPath, byHash, exactGroups, copies: copies.length };
}

/** Blank-line separated groups of paths (jdupes, rmlint -o fdupes). */
function parseBlankGroups(text, root) {
  return text
    .split(/\n\s*\n/)
    .map((g) =>
      g
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((p) => path.resolve(root, p)),
    )
    .filter((g) => g.length > 1);
}

function exactScore(groups, t) {
  const correct = groups.filter((g) => {
    const fams = new Set(g.map((p) => t.byPath.get(p)?.family));
    const ref = t.byPath.get(g[0]);
    const want = [...t.byPath.values()].filter(
      (f) => f.family === ref?.family && f.sha256 === ref?.sha256,
    ).length;
    return fams.size === 1 && g.length === want;
  }).length;
  return { groups: groups.length, correct, files: groups.reduce((s, g) => s + g.length, 0) };
}

async function timed(runs, fn) {
  const secs = [];
  let last;
  for (let i = 0; i < runs; i++) {
    last = await fn();
    secs.push(last.seconds);
  }
  return { seconds: median(secs), samples: secs, last };
}

/** Exact duplicates: alice (over its index) vs jdupes and rmlint (reading every file). */
export async function exactDupesBench({ home, root, manifest, runs, rebuildSeconds }) {
  const t = truth(manifest, root);
  fs.rmSync(path.join(root, '.metadata'), { recursive: true, force: true });
  const a = await timed(runs, () => alice(home, ['dupes']));
  const aliceGroups = (a.last.json?.exact ?? []).map((g) => g.paths);
  const as = exactScore(aliceGroups, t);
  const goalText = `${t.exactGroups} groups`;
  const rows = [];
  const base = { section: 'dupes', unit: 's', goal: goalText };
  const peers = [
    ['jdupes', ['jdupes', ['-r', '-q', root]]],
    ['rmlint', ['rmlint', ['-T', 'df', '-o', 'fdupes', '-o', 'summary:/dev/null', root]]],
  ];
  for (const [name, [cmd, args]] of peers) {
    const metric = `exact dupes time (vs ${name}); groups correct`;
    if (!which(cmd)) {
      rows.push({ ...base, metric, skipped: `${name} not found (apt-get install ${name})` });
      continue;
    }
    const p = await timed(runs, () => run(cmd, args, { cwd: root, allowFail: true }));
    const ps = exactScore(parseBlankGroups(p.last.stdout, root), t);
    log(
      `exact dupes: alice ${a.seconds.toFixed(2)} s ${as.correct}/${t.exactGroups}, ${name} ${p.seconds.toFixed(2)} s ${ps.correct}/${t.exactGroups}`,
    );
    rows.push({
      ...base,
      metric: `exact dupes time (vs ${name}), alice over its index`,
      value: a.seconds,
      peer: name,
      peer_value: p.seconds,
      ratio: p.seconds / a.seconds,
      detail: `groups right: alice ${as.correct}/${t.exactGroups}, ${name} ${ps.correct}/${t.exactGroups}`,
      pass: as.correct === t.exactGroups && as.groups === t.exactGroups,
      samples: { alice_s: a.samples, peer_s: p.samples, alice: as, peer: ps },
    });
    if (rebuildSeconds !== undefined && name === 'jdupes')
      rows.push({
        ...base,
        metric: 'exact dupes cold: rebuild + dupes (vs jdupes)',
        value: rebuildSeconds + a.seconds,
        peer: name,
        peer_value: p.seconds,
        ratio: p.seconds / (rebuildSeconds + a.seconds),
        goal: undefined,
      });
  }
  return rows;
}

/** Recall on the known variants and images wrongly grouped, for groups of paths. */
function nearScore(groups, t, manifest, root) {
  const groupOf = new Map();
  groups.forEach((g, i) => g.forEach((p) => groupOf.set(p, i)));
  const famGroups = new Map();
  for (const [p, i] of groupOf) {
    const fam = t.byPath.get(p)?.family;
    if (!famGroups.has(fam)) famGroups.set(fam, new Set());
    famGroups.get(fam).add(i);
  }
  const byKind = {};
  for (const f of manifest.files.filter((x) => x.kind === 'variant')) {
    const g = groupOf.get(path.join(root, f.rel));
    const hit =
      g !== undefined &&
      [...t.byPath.entries()].some(
        ([p, x]) => x.family === f.family && x.kind !== 'variant' && groupOf.get(p) === g,
      );
    byKind[f.variant] ??= { found: 0, total: 0 };
    byKind[f.variant].total++;
    if (hit) byKind[f.variant].found++;
  }
  let wrong = 0;
  let wrongPairs = 0;
  for (const g of groups) {
    const fams = g.map((p) => t.byPath.get(p)?.family);
    for (const f of fams) if (fams.some((o) => o !== f)) wrong++;
    for (let i = 0; i < fams.length; i++)
      for (let j = i + 1; j < fams.length; j++) if (fams[i] !== fams[j]) wrongPairs++;
  }
  const images = manifest.files.filter((f) => f.kind !== 'video').length;
  // Pairs of images from different families: the denominator of the false-positive pair rate.
  const famSizes = new Map();
  for (const f of manifest.files.filter((x) => x.kind !== 'video'))
    famSizes.set(f.family, (famSizes.get(f.family) ?? 0) + 1);
  const samePairs = [...famSizes.values()].reduce((s, n) => s + (n * (n - 1)) / 2, 0);
  const unrelatedPairs = (images * (images - 1)) / 2 - samePairs;
  const all = Object.values(byKind);
  const allFound = all.reduce((s, k) => s + k.found, 0);
  const allTotal = all.reduce((s, k) => s + k.total, 0);
  const worstKind = Math.min(...all.map((k) => (k.total ? k.found / k.total : 1)));
  const main = ['resize50', 'jpeg70', 'bright10'].map((k) => byKind[k] ?? { found: 0, total: 0 });
  const found = main.reduce((s, k) => s + k.found, 0);
  const total = main.reduce((s, k) => s + k.total, 0);
  return {
    recall: total ? found / total : NaN,
    recallAll: allTotal ? allFound / allTotal : NaN,
    worstKind,
    wrongPairs,
    fpPairShare: unrelatedPairs ? wrongPairs / unrelatedPairs : 0,
    byKind,
    wrongImages: wrong,
    fpShare: wrong / images,
    groups: groups.length,
  };
}

/**
 * The decode floor: every image decoded by sharp as alice's hash pipeline decodes it, 2 at a time
 * (bench/decode-worker.mjs, its time measured inside so Node's start-up is left out), against
 * findimagedupes' time from the same run. What a first index cannot beat on this machine.
 */
async function decodeFloor(imageFiles, p, files, rebuildSeconds) {
  const list = path.join(os.tmpdir(), `alice-bench-decode-${process.pid}`);
  fs.writeFileSync(list, imageFiles.join('\0'));
  try {
    const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'decode-worker.mjs');
    const r = await run(process.execPath, [worker, list, '2']);
    const { seconds } = JSON.parse(r.stdout);
    return {
      section: 'dupes',
      metric: 'decode floor: every image shrink-decoded by sharp, 2 at a time (vs findimagedupes -R)',
      value: imageFiles.length / seconds,
      unit: 'files/s',
      peer: 'findimagedupes',
      peer_value: files / p.seconds,
      ratio: p.seconds / seconds,
      detail: `${seconds.toFixed(2)} s for ${imageFiles.length} images${rebuildSeconds === undefined ? '' : `; the rebuild took ${(rebuildSeconds / seconds).toFixed(2)}× this`}`,
    };
  } finally {
    fs.rmSync(list, { force: true });
  }
}

/** Near duplicates: `alice dupes --near` vs `findimagedupes` (default threshold 90%). */
export async function nearDupesBench({ home, root, manifest, runs, rebuildSeconds, files, imageFiles }) {
  const t = truth(manifest, root);
  fs.rmSync(path.join(root, '.metadata'), { recursive: true, force: true });
  const a = await timed(runs, () => alice(home, ['dupes', '--near']));
  const byHashPaths = (h) => manifest.files.filter((f) => f.sha256 === h).map((f) => path.join(root, f.rel));
  const aliceGroups = (a.last.json?.near ?? []).map((g) =>
    g.members.flatMap((m) => byHashPaths(m.content_hash)),
  );
  const as = nearScore(aliceGroups, t, manifest, root);
  const kinds = (s) =>
    Object.entries(s.byKind)
      .map(([k, v]) => `${k} ${v.found}/${v.total}`)
      .join(', ');
  const rows = [];
  let p;
  let ps;
  if (which('findimagedupes')) {
    p = await timed(runs, () => run('findimagedupes', ['-R', '-q', root], { allowFail: true }));
    const groups = p.last.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.trim().split(/\s+/));
    ps = nearScore(groups, t, manifest, root);
  }
  const peerCols = (v) =>
    ps
      ? { peer: 'findimagedupes', peer_value: v }
      : { peer: 'findimagedupes', skipped_peer: 'findimagedupes not found (apt-get install findimagedupes)' };
  log(
    `near dupes: alice recall ${(as.recall * 100).toFixed(1)}% (${kinds(as)}), findimagedupes ${ps ? `${(ps.recall * 100).toFixed(1)}% (${kinds(ps)})` : 'skipped'}`,
  );
  rows.push({
    section: 'dupes',
    metric: 'near dupes time (vs findimagedupes), alice over its index',
    value: a.seconds,
    unit: 's',
    ...peerCols(p?.seconds),
    ratio: p ? p.seconds / a.seconds : undefined,
    samples: { alice_s: a.samples, peer_s: p?.samples },
  });
  if (p && rebuildSeconds !== undefined) {
    // Both read and fingerprint every image from scratch: the first index against the peer.
    rows.push({
      section: 'dupes',
      metric: 'first index rebuild files/s (vs findimagedupes -R on the same files)',
      value: files / rebuildSeconds,
      unit: 'files/s',
      peer: 'findimagedupes',
      peer_value: files / p.seconds,
      ratio: p.seconds / rebuildSeconds,
      goal: '≥ 1.5×',
      pass: p.seconds / rebuildSeconds >= 1.5,
    });
  }
  if (p && imageFiles !== undefined) rows.push(await decodeFloor(imageFiles, p, files, rebuildSeconds));
  rows.push({
    section: 'dupes',
    metric: 'near dupes recall: resize/JPEG q70/brightness',
    value: as.recall * 100,
    unit: '%',
    ...peerCols(ps ? ps.recall * 100 : undefined),
    goal: '≥ 95%',
    pass: as.recall >= 0.95,
    detail: `alice ${kinds(as)}${ps ? `; findimagedupes ${kinds(ps)}` : ''}`,
    samples: { alice: as, peer: ps },
  });
  rows.push({
    section: 'dupes',
    metric: `near dupes recall, worst variant kind (crop5 included; seed ${manifest.params?.seed ?? 1})`,
    value: as.worstKind * 100,
    unit: '%',
    ...peerCols(ps ? ps.worstKind * 100 : undefined),
    goal: '≥ 98%',
    pass: as.worstKind >= 0.98,
    detail: `all kinds: alice ${(as.recallAll * 100).toFixed(1)}%${ps ? `, findimagedupes ${(ps.recallAll * 100).toFixed(1)}%` : ''}`,
  });
  rows.push({
    section: 'dupes',
    metric: 'near dupes false-positive pairs: unrelated pairs put in one group',
    value: as.fpPairShare * 100,
    unit: '%',
    ...peerCols(ps ? ps.fpPairShare * 100 : undefined),
    goal: '≤ 0.01%',
    pass: as.fpPairShare <= 0.0001,
    detail: `alice ${as.wrongPairs} pairs${ps ? `, findimagedupes ${ps.wrongPairs}` : ''}`,
  });
  rows.push({
    section: 'dupes',
    metric: 'near dupes false positives: images grouped with an unrelated one',
    value: as.fpShare * 100,
    unit: '%',
    ...peerCols(ps ? ps.fpShare * 100 : undefined),
    goal: '≤ 1%',
    pass: as.fpShare <= 0.01,
    detail: `alice ${as.wrongImages} images${ps ? `, findimagedupes ${ps.wrongImages}` : ''}`,
  });
  return rows;
}
