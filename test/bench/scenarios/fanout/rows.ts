// The fanout scenario's table rows and JSON details of one size.
import { fmtInt, fmtMiB, fmtMs, ratio, type ResultRow } from '../../lib/report.js';
import { rounded } from '../../lib/stats.js';
import { GOAL_RATIO, REGISTER_CONCURRENCY, type SizeResult } from './common.js';

export function rowsFor(r: SizeResult): ResultRow[] {
  const size = `N = ${fmtInt(r.n)}`;
  const floorName = 'raw NATS floor';
  const rows: ResultRow[] = [];
  const goalApplies = r.n >= 10_000;
  if (r.floor && r.watchersUpMs !== undefined) {
    rows.push({
      size,
      metric: 'watchers up (all read their key)',
      gitfleet: fmtMs(r.watchersUpMs),
      peerName: floorName,
      peer: fmtMs(r.floor.upMs),
      ratio: ratio(r.watchersUpMs, r.floor.upMs),
      goal: '',
    });
  }
  if (r.change && r.floor) {
    const f = r.floor.fanout;
    const g = r.change.fanout;
    rows.push(
      {
        size,
        metric: 'fan-out: first watcher has it',
        gitfleet: fmtMs(g.min),
        peerName: floorName,
        peer: fmtMs(f.min),
        goal: '',
      },
      {
        size,
        metric: 'fan-out p50 (UpdateAssignment → watcher)',
        gitfleet: fmtMs(g.p50),
        peerName: floorName,
        peer: fmtMs(f.p50),
        ratio: ratio(g.p50, f.p50),
        goal: '',
      },
      {
        size,
        metric: 'fan-out p99',
        gitfleet: fmtMs(g.p99),
        peerName: floorName,
        peer: fmtMs(f.p99),
        ratio: ratio(g.p99, f.p99),
        goal: goalApplies ? `≤ ${GOAL_RATIO}× floor` : `(≤ ${GOAL_RATIO}× from 10,000)`,
        met: goalApplies
          ? (ratio(g.p99, f.p99) ?? Infinity) <= GOAL_RATIO && r.change.missing === 0
          : undefined,
      },
      {
        size,
        metric: 'fan-out max',
        gitfleet: fmtMs(g.max),
        peerName: floorName,
        peer: fmtMs(f.max),
        ratio: ratio(g.max, f.max),
        goal: '',
      },
      {
        size,
        metric: 'hub CPU / peak RSS during the change',
        gitfleet: `${fmtMs(r.change.hubCpuMs)} / ${fmtMiB(r.change.hubPeakRssMiB)}`,
        peerName: '-',
        peer: '',
        goal: '',
      },
    );
  }
  if (r.registration) {
    rows.push({
      size,
      metric: `registration (CreateCluster, ${REGISTER_CONCURRENCY} in flight)`,
      gitfleet: `${fmtMs(r.registration.ms)} (${fmtInt(r.registration.perSecond)}/s)`,
      peerName: '-',
      peer: '',
      goal: '',
    });
  }
  if (r.reconnect) {
    rows.push({
      size,
      metric: 'reconnect storm: all re-read after server up',
      gitfleet: `${fmtMs(r.reconnect.allReReadFromServerUpMs)}, ${fmtInt(r.reconnect.errorTotal)} errors`,
      peerName: '-',
      peer: '',
      goal: 'no timeouts',
      met: (r.reconnect.errors.timeout ?? 0) === 0 && r.reconnect.missing === 0,
    });
  }
  if (r.stoppedAt) {
    rows.push({
      size,
      metric: `did not finish: stopped during ${r.stoppedAt}`,
      gitfleet: (r.error ?? '').split('\n')[0].slice(0, 120),
      peerName: '-',
      peer: '',
      goal: goalApplies ? `≤ ${GOAL_RATIO}× floor` : '',
      met: goalApplies && !r.change ? false : undefined,
    });
  }
  return rows;
}

/** The result with distributions and fractions rounded to 0.1 ms, for the JSON. */
export function roundedResult(r: SizeResult): unknown {
  return JSON.parse(
    JSON.stringify(
      {
        ...r,
        floor: r.floor && { ...r.floor, fanout: rounded(r.floor.fanout) },
        firstDesired: r.firstDesired && rounded(r.firstDesired),
        change: r.change && { ...r.change, fanout: rounded(r.change.fanout) },
      },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v),
    ),
  );
}
