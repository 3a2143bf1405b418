/**
 * Hashing: alice's streamed hasher (dist/adapters/hash.adapter.js) against coreutils `sha256sum`
 * on the same files in the same run, single stream against single process and 2-way against
 * `xargs -P2`; and the peak RSS of alice's hasher on one big file of random bytes.
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { BENCH_DIR, log, median, run, warmCache, which } from './lib.mjs';

const WORKER = path.join(BENCH_DIR, 'hash-worker.mjs');

function writeList(files) {
  const list = path.join(os.tmpdir(), `alice-bench-list-${process.pid}`);
  fs.writeFileSync(list, files.join('\0'));
  return list;
}

async function aliceHash(list, concurrency) {
  const r = await run(process.execPath, [WORKER, list, String(concurrency)]);
  const j = JSON.parse(r.stdout);
  return { seconds: j.seconds, wall: r.seconds, bytes: j.bytes, peakRssMb: r.peakRssMb };
}

function sha256sum(list, concurrency, count) {
  const per = Math.ceil(count / concurrency);
  const p = concurrency > 1 ? `-P${concurrency} -n ${per}` : '';
  return run('sh', ['-c', `xargs -0 ${p} -a "${list}" sha256sum > /dev/null`]);
}

/** Rows for hashing throughput (single and 2-way), each a median of `runs` interleaved runs. */
export async function hashingBench({ files, bytes, runs }) {
  if (!which('sha256sum')) return [{ section: 'hashing', metric: 'hashing', skipped: 'sha256sum not found' }];
  const list = writeList(files);
  const mb = bytes / 1e6;
  const rows = [];
  try {
    warmCache(files);
    for (const c of [1, 2]) {
      const a = [];
      const s = [];
      for (let i = 0; i < runs; i++) {
        a.push((await aliceHash(list, c)).seconds);
        s.push((await sha256sum(list, c, files.length)).seconds);
      }
      const [am, sm] = [median(a), median(s)];
      log(`hashing ×${c}: alice ${(mb / am).toFixed(0)} MB/s, sha256sum ${(mb / sm).toFixed(0)} MB/s`);
      rows.push({
        section: 'hashing',
        metric:
          c === 1 ? 'hash MB/s, 1 stream (vs sha256sum)' : 'hash MB/s, 2 streams (vs xargs -P2 sha256sum)',
        value: mb / am,
        unit: 'MB/s',
        peer: c === 1 ? 'sha256sum' : 'xargs -P2 sha256sum',
        peer_value: mb / sm,
        ratio: sm / am,
        goal: '≥ 2×',
        pass: sm / am >= 2,
        samples: { alice_s: a, peer_s: s, mb },
      });
    }
  } finally {
    fs.rmSync(list, { force: true });
  }
  return rows;
}

/** Peak RSS of alice's hasher on one `gb`-GB file of random bytes, written then deleted. */
export async function bigFileBench({ gb, runs }) {
  const file = path.join(os.tmpdir(), `alice-bench-big-${process.pid}.bin`);
  const list = writeList([file]);
  const rows = [];
  try {
    log(`big file: writing ${gb} GB of random bytes to ${file}`);
    const chunk = Buffer.allocUnsafe(1 << 20);
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < Math.round(gb * 1024); i++) fs.writeSync(fd, randomFillSync(chunk));
    fs.closeSync(fd);
    const mb = fs.statSync(file).size / 1e6;
    const rss = [];
    const secs = [];
    const peer = [];
    for (let i = 0; i < runs; i++) {
      const r = await aliceHash(list, 1);
      rss.push(r.peakRssMb);
      secs.push(r.seconds);
      if (which('sha256sum')) peer.push((await sha256sum(list, 1, 1)).seconds);
    }
    rows.push({
      section: 'hashing',
      metric: `peak RSS hashing a ${gb} GB file`,
      value: median(rss),
      unit: 'MB',
      goal: '< 150 MB',
      pass: median(rss) < 150,
      samples: { rss_mb: rss },
    });
    rows.push({
      section: 'hashing',
      metric: `hash MB/s, one ${gb} GB file (vs sha256sum)`,
      value: mb / median(secs),
      unit: 'MB/s',
      peer: 'sha256sum',
      peer_value: peer.length ? mb / median(peer) : undefined,
      ratio: peer.length ? median(peer) / median(secs) : undefined,
      samples: { alice_s: secs, peer_s: peer, mb },
    });
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(list, { force: true });
  }
  return rows;
}
