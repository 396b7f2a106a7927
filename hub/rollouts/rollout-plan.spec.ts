import { AssignmentState, parseLabelSelector, type RolloutOptions } from '../../proto/index.js';
import { checkRolloutOptions, maxUnavailableOf } from './rollout-options.js';
import {
  planRollout,
  rolloutView,
  stageOf,
  type RolloutClusterInput,
  type RolloutInput,
  type RolloutRecord,
} from './rollout-plan.js';

const OLD = 'main@sha1:' + '1'.repeat(40);
const NEW = 'main@sha1:' + '2'.repeat(40);
const NEWER = 'main@sha1:' + '3'.repeat(40);

function options(over: Partial<RolloutOptions> = {}): RolloutOptions {
  return {
    stages: [parseLabelSelector('ring=canary'), parseLabelSelector('ring=early')],
    maxUnavailable: '',
    soakSeconds: 0,
    maxFailures: 0,
    ...over,
  };
}

function cluster(name: string, ring: string, over: Partial<RolloutClusterInput> = {}): RolloutClusterInput {
  return { name, labels: ring ? { ring } : {}, online: true, ...over };
}

const ready = (revision: string) => ({
  state: AssignmentState.ASSIGNMENT_STATE_READY,
  desiredRevision: revision,
  appliedRevision: revision,
  message: '',
});
const failed = (revision: string) => ({
  state: AssignmentState.ASSIGNMENT_STATE_FAILED,
  desiredRevision: revision,
  appliedRevision: OLD,
  message: 'apply failed: boom',
});

function finished(revision = OLD): RolloutRecord {
  return {
    tenant: 't',
    assignment: 'a',
    revision,
    previousRevision: '',
    state: 'Finished',
    stage: 2,
    soakStartedAtMs: 0,
    message: '',
    startedAtMs: 0,
    updatedAtMs: 0,
  };
}

/** A small fleet: c1 canary, e1 e2 early, r1 r2 r3 the rest. */
function fleet(): RolloutClusterInput[] {
  return [
    cluster('c1', 'canary'),
    cluster('e1', 'early'),
    cluster('e2', 'early'),
    cluster('r1', ''),
    cluster('r2', ''),
    cluster('r3', ''),
  ];
}

function input(over: Partial<RolloutInput> = {}): RolloutInput {
  const clusters = over.clusters ?? fleet();
  return {
    tenant: 't',
    assignment: 'a',
    options: options(),
    target: NEW,
    record: finished(),
    clusters,
    pins: new Map(clusters.map((c) => [c.name, OLD])),
    nowMs: 1000,
    startBudget: Infinity,
    ...over,
  };
}

/** Marks every cluster pinned to `revision` Ready there. */
function reportReady(clusters: RolloutClusterInput[], pins: ReadonlyMap<string, string>, revision: string) {
  return clusters.map((c) => (pins.get(c.name) === revision ? { ...c, status: ready(revision) } : c));
}

describe('rollout options', () => {
  it('refuses hostile values with the field named', () => {
    for (const bad of ['0', '101%', '-1', 'abc', '0%', '1.5', '']) {
      if (bad === '') continue;
      expect(() => checkRolloutOptions('assignment.rollout', { maxUnavailable: bad })).toThrow(
        /assignment\.rollout\.max_unavailable/,
      );
    }
    expect(() => checkRolloutOptions('r', { soakSeconds: -1 })).toThrow(/r\.soak_seconds/);
    expect(() => checkRolloutOptions('r', { soakSeconds: 1e12 })).toThrow(/r\.soak_seconds/);
    expect(() => checkRolloutOptions('r', { maxFailures: -1 })).toThrow(/r\.max_failures/);
    expect(() => checkRolloutOptions('r', { stages: [{ matchLabels: {}, matchExpressions: [] }] })).toThrow(
      /r\.stages\[0\]: an empty stage/,
    );
    expect(() =>
      checkRolloutOptions('r', { stages: [{ matchLabels: { 'bad key!': 'x' }, matchExpressions: [] }] }),
    ).toThrow(/r\.stages\[0\]\.matchLabels/);
  });

  it('keeps good values and none stays none', () => {
    expect(checkRolloutOptions('r', undefined)).toBeUndefined();
    expect(checkRolloutOptions('r', { maxUnavailable: '25%', soakSeconds: 60, maxFailures: 2 })).toEqual({
      stages: [],
      maxUnavailable: '25%',
      soakSeconds: 60,
      maxFailures: 2,
    });
  });

  it('max-unavailable: all by default, N, P% rounded down, at least 1', () => {
    expect(maxUnavailableOf('', 7)).toBe(7);
    expect(maxUnavailableOf('2', 7)).toBe(2);
    expect(maxUnavailableOf('50%', 7)).toBe(3);
    expect(maxUnavailableOf('10%', 3)).toBe(1);
    expect(maxUnavailableOf('', 0)).toBe(1);
  });
});

describe('planRollout', () => {
  it('a first revision goes to every cluster at once and is Finished', () => {
    const p = planRollout(input({ record: undefined, pins: new Map() }));
    expect(p.record?.state).toBe('Finished');
    expect([...p.pins.values()]).toEqual(Array(6).fill(NEW));
    expect(p.changed).toHaveLength(6);
  });

  it('nothing happens before the repo resolves', () => {
    const p = planRollout(input({ record: undefined, pins: new Map(), target: '' }));
    expect(p.record).toBeUndefined();
    expect(p.changed).toEqual([]);
  });

  it('three stages gate on Ready and soak; clusters not reached keep the previous revision', () => {
    const opts = options({ soakSeconds: 60 });
    let clusters = fleet();
    let p = planRollout(input({ options: opts, clusters }));
    expect(p.record).toMatchObject({ state: 'Progressing', stage: 0, previousRevision: OLD });
    expect(p.changed).toEqual(['c1']);
    expect(p.pins.get('e1')).toBe(OLD);
    // c1 Ready: soaking starts, nothing else moves
    clusters = reportReady(clusters, p.pins, NEW);
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 2000 }));
    expect(p.record).toMatchObject({ stage: 0, soakStartedAtMs: 2000 });
    expect(p.changed).toEqual([]);
    expect(rolloutView(p.record!, opts, clusters, p.pins).stages[0]).toMatchObject({
      state: 'Soaking',
      soakUntilMs: 62_000,
    });
    // soak not over
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 61_999 }));
    expect(p.changed).toEqual([]);
    // soak over: stage 2 starts
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 62_000 }));
    expect(p.record).toMatchObject({ stage: 1, soakStartedAtMs: 0 });
    expect(p.changed).toEqual(['e1', 'e2']);
    expect(p.pins.get('r1')).toBe(OLD);
    clusters = reportReady(clusters, p.pins, NEW);
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 63_000 }));
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 123_000 }));
    expect(p.record?.stage).toBe(2);
    expect(p.changed).toEqual(['r1', 'r2', 'r3']);
    clusters = reportReady(clusters, p.pins, NEW);
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 124_000 }));
    expect(p.event).toBeUndefined();
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 184_000 }));
    expect(p.record?.state).toBe('Finished');
    expect(p.event?.kind).toBe('rollout.finished');
    expect(new Set(p.pins.values())).toEqual(new Set([NEW]));
  });

  it('a cluster that leaves Ready while soaking starts the soak over', () => {
    const opts = options({ soakSeconds: 60 });
    let clusters = fleet();
    let p = planRollout(input({ options: opts, clusters }));
    clusters = reportReady(clusters, p.pins, NEW);
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 2000 }));
    clusters = clusters.map((c) =>
      c.name === 'c1'
        ? { ...c, status: { ...ready(NEW), state: AssignmentState.ASSIGNMENT_STATE_PROGRESSING } }
        : c,
    );
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins, nowMs: 30_000 }));
    expect(p.record?.soakStartedAtMs).toBe(0);
  });

  it('max-unavailable counts clusters updating or not Ready', () => {
    const opts = options({ stages: [], maxUnavailable: '2' });
    let clusters = fleet();
    let p = planRollout(input({ options: opts, clusters }));
    expect(p.changed).toEqual(['c1', 'e1']);
    // still updating: nothing more starts
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins }));
    expect(p.changed).toEqual([]);
    // one Ready: one more starts
    clusters = clusters.map((c) => (c.name === 'c1' ? { ...c, status: ready(NEW) } : c));
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins }));
    expect(p.changed).toEqual(['e2']);
  });

  it('an offline cluster is waited for, counted as unavailable and reported', () => {
    const opts = options({ stages: [], maxUnavailable: '1' });
    let clusters = fleet().map((c) => (c.name === 'c1' ? { ...c, online: false } : c));
    let p = planRollout(input({ options: opts, clusters }));
    // c1 is pinned (it takes the target when it returns) and fills the one unavailable slot
    expect(p.changed).toEqual(['c1']);
    const view = rolloutView(p.record!, opts, clusters, p.pins);
    expect(view.stages[0].clusters.find((c) => c.cluster === 'c1')).toMatchObject({ state: 'Offline' });
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins }));
    expect(p.changed).toEqual([]);
    // it returns and reports Ready: the next one starts
    clusters = clusters.map((c) => (c.name === 'c1' ? { ...c, online: true, status: ready(NEW) } : c));
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins }));
    expect(p.changed).toEqual(['e1']);
  });

  it('failures beyond max-failures pause; clusters keep what they run; resume re-checks', () => {
    const opts = options({ stages: [parseLabelSelector('ring in (canary,early)')], maxFailures: 1 });
    let clusters = fleet();
    let p = planRollout(input({ options: opts, clusters }));
    expect(p.changed).toEqual(['c1', 'e1', 'e2']);
    clusters = clusters.map((c) =>
      c.name === 'c1' ? { ...c, status: failed(NEW) } : c.name === 'e1' ? { ...c, status: ready(NEW) } : c,
    );
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins }));
    expect(p.record?.state).toBe('Progressing'); // one failure is allowed
    clusters = clusters.map((c) => (c.name === 'e2' ? { ...c, status: failed(NEW) } : c));
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins }));
    expect(p.record?.state).toBe('Paused');
    expect(p.record?.message).toMatch(
      /2 cluster\(s\) failed .* more than --max-failures 1 \(c1, e2; c1: apply failed: boom\)/,
    );
    expect(p.event?.kind).toBe('rollout.paused');
    expect(p.changed).toEqual([]);
    // paused: even once they are fixed nothing starts until resumed
    clusters = clusters.map((c) => (c.name === 'e2' ? { ...c, status: ready(NEW) } : c));
    p = planRollout(input({ options: opts, clusters, record: p.record, pins: p.pins }));
    expect(p.record?.state).toBe('Paused');
    expect(p.pins.get('r1')).toBe(OLD);
    // resumed: c1 failed within max-failures does not hold the stage
    p = planRollout(
      input({ options: opts, clusters, record: { ...p.record!, state: 'Progressing' }, pins: p.pins }),
    );
    expect(p.record?.stage).toBe(1);
    expect(p.changed).toEqual(['r1', 'r2', 'r3']);
  });

  it('a new revision mid-rollout supersedes it and starts over from stage 1', () => {
    let clusters = fleet();
    let p = planRollout(input({ clusters }));
    clusters = reportReady(clusters, p.pins, NEW);
    p = planRollout(input({ clusters, record: p.record, pins: p.pins }));
    expect(p.record?.stage).toBe(1);
    p = planRollout(input({ clusters, record: p.record, pins: p.pins, target: NEWER }));
    expect(p.record).toMatchObject({
      revision: NEWER,
      previousRevision: OLD,
      stage: 0,
      state: 'Progressing',
    });
    expect(p.record?.message).toMatch(/supersedes the rollout of .* at stage 2/);
    expect(p.changed).toEqual(['c1']);
    // the stage-2 clusters keep what they run until their stage starts again
    expect(p.pins.get('e1')).toBe(NEW);
    expect(p.pins.get('r1')).toBe(OLD);
  });

  it('undone: every cluster pinned to the previous revision at once', () => {
    let p = planRollout(input());
    p = planRollout(input({ record: { ...p.record!, state: 'Undone' }, pins: p.pins }));
    expect(new Set(p.pins.values())).toEqual(new Set([OLD]));
    expect(p.changed).toEqual(['c1']);
    // the same target does not start a new rollout
    p = planRollout(input({ record: p.record, pins: p.pins }));
    expect(p.record?.state).toBe('Undone');
    expect(p.changed).toEqual([]);
  });

  it('a cluster joining mid-rollout: stable revision before its stage, target once it started', () => {
    let clusters = fleet();
    let p = planRollout(input({ clusters }));
    clusters = reportReady(clusters, p.pins, NEW);
    p = planRollout(input({ clusters, record: p.record, pins: p.pins }));
    expect(p.record?.stage).toBe(1);
    const joined = [...clusters, cluster('c2', 'canary'), cluster('e3', 'early'), cluster('r4', '')];
    p = planRollout(input({ clusters: joined, record: p.record, pins: p.pins }));
    expect(p.pins.get('c2')).toBe(NEW); // its stage is done
    expect(p.pins.get('e3')).toBe(NEW); // its stage is under way (max-unavailable 100%)
    expect(p.pins.get('r4')).toBe(OLD); // its stage has not started
  });

  it('the herd cap limits how many clusters start per pass', () => {
    const opts = options({ stages: [] });
    let p = planRollout(input({ options: opts, startBudget: 2 }));
    expect(p.changed).toEqual(['c1', 'e1']);
    expect(p.started).toBe(2);
    p = planRollout(input({ options: opts, record: p.record, pins: p.pins, startBudget: 2 }));
    expect(p.changed).toEqual(['e2', 'r1']);
  });

  it('pins of clusters no longer selected are dropped', () => {
    const p = planRollout(input({ pins: new Map([['gone', OLD]]) }));
    expect(p.dropped).toEqual(['gone']);
  });

  it('a cluster in two stages belongs to the first', () => {
    const opts = options({ stages: [parseLabelSelector('env=prod'), parseLabelSelector('ring=canary')] });
    expect(stageOf(opts, { env: 'prod', ring: 'canary' })).toBe(0);
    expect(stageOf(opts, { ring: 'canary' })).toBe(1);
    expect(stageOf(opts, {})).toBe(2);
  });
});
