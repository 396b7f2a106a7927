// The staged rollout of one assignment's revision (pure): given its options, its clusters (labels,
// liveness, the status they reported), the pins they have and the time, which clusters switch to
// the target now, which stage it is at, whether it pauses or is finished, and what `gitfleet
// rollout status` shows. The driver (rollout-driver.service.ts) loads the inputs from the store,
// calls this and stores what it returns, so a hub restart continues from the same state.
import {
  AssignmentState,
  formatLabelSelector,
  matchesLabelSelector,
  shortRevision,
  type AssignmentStatus,
  type Rollout,
  type RolloutCluster,
  type RolloutOptions,
  type RolloutStage,
} from '../../proto/index.js';
import { maxUnavailableOf } from './rollout-options.js';

export const ROLLOUT_PROGRESSING = 'Progressing';
export const ROLLOUT_PAUSED = 'Paused';
export const ROLLOUT_FINISHED = 'Finished';
export const ROLLOUT_ABORTED = 'Aborted';
export const ROLLOUT_UNDONE = 'Undone';

export const STAGE_PENDING = 'Pending';
export const STAGE_PROGRESSING = 'Progressing';
export const STAGE_SOAKING = 'Soaking';
export const STAGE_DONE = 'Done';

export const CLUSTER_WAITING = 'Waiting';
export const CLUSTER_UPDATING = 'Updating';
export const CLUSTER_READY = 'Ready';
export const CLUSTER_FAILED = 'Failed';
export const CLUSTER_OFFLINE = 'Offline';

/** A rollout as the store keeps it. `stage` is the index of the current stage (0-based). */
export interface RolloutRecord {
  tenant: string;
  assignment: string;
  revision: string;
  previousRevision: string;
  state: string;
  stage: number;
  /** When every cluster of the current stage became Ready at the target (0: not all are). */
  soakStartedAtMs: number;
  message: string;
  startedAtMs: number;
  updatedAtMs: number;
}

/** One selected cluster of the assignment. */
export interface RolloutClusterInput {
  name: string;
  labels: Record<string, string>;
  /** Its agent's heartbeats arrive (cluster liveness Online). */
  online: boolean;
  /** Its last report of this assignment, if any. */
  status?: Pick<AssignmentStatus, 'state' | 'desiredRevision' | 'appliedRevision' | 'message'>;
}

export interface RolloutInput {
  tenant: string;
  assignment: string;
  options: RolloutOptions;
  /** The revision the assignment should run (its rollback pin or its repo's); "" until resolved. */
  target: string;
  record: RolloutRecord | undefined;
  /** The clusters the assignment selects now. */
  clusters: readonly RolloutClusterInput[];
  /** cluster → pinned revision (of any cluster, selected or not). */
  pins: ReadonlyMap<string, string>;
  nowMs: number;
  /** How many clusters may switch to the target in this pass (the herd cap); Infinity without one. */
  startBudget: number;
}

export type RolloutEventKind = 'rollout.paused' | 'rollout.finished';

export interface RolloutPlan {
  record: RolloutRecord | undefined;
  /** The pins of the selected clusters after this pass. */
  pins: Map<string, string>;
  /** Selected clusters whose pin changed (their desired set must be projected). */
  changed: string[];
  /** Pins of clusters the assignment no longer selects (to delete). */
  dropped: string[];
  /** How many clusters switched to the target (counted against the herd cap). */
  started: number;
  event?: { kind: RolloutEventKind; message: string };
}

/** The index of the stage a cluster belongs to: the first whose selector matches, else the last. */
export function stageOf(options: RolloutOptions, labels: Record<string, string>): number {
  const i = options.stages.findIndex((s) => matchesLabelSelector(labels, s));
  return i < 0 ? options.stages.length : i;
}

/** What a cluster's desired set runs when it has no pin: the revision every cluster not yet reached keeps. */
export function stableRevision(
  record: Pick<RolloutRecord, 'state' | 'revision' | 'previousRevision'>,
): string {
  if (record.state === ROLLOUT_FINISHED) return record.revision;
  return record.previousRevision || record.revision;
}

/** The revision the clusters should end at: the previous one once undone, else the target. */
function goalOf(record: RolloutRecord): string {
  return record.state === ROLLOUT_UNDONE ? record.previousRevision : record.revision;
}

function isReadyAt(c: RolloutClusterInput, revision: string): boolean {
  return c.status?.state === AssignmentState.ASSIGNMENT_STATE_READY && c.status.appliedRevision === revision;
}

function isFailedAt(c: RolloutClusterInput, revision: string): boolean {
  return c.status?.state === AssignmentState.ASSIGNMENT_STATE_FAILED && c.status.desiredRevision === revision;
}

function short(revision: string): string {
  return revision ? shortRevision(revision) : '(none)';
}

/**
 * One pass of the rollout: starts a new one when the target changed, switches clusters of the
 * current stage within max-unavailable and the herd cap, soaks, advances, pauses on failures and
 * finishes. Paused, finished, aborted and undone rollouts change no pin but those of clusters
 * that have none (joined or gained the labels since): they get the stable revision, or the
 * target when their stage has started.
 */
export function planRollout(input: RolloutInput): RolloutPlan {
  const { options, target, nowMs } = input;
  const selected = new Set(input.clusters.map((c) => c.name));
  const dropped = [...input.pins.keys()].filter((n) => !selected.has(n));
  const pins = new Map<string, string>();
  for (const c of input.clusters) {
    const pin = input.pins.get(c.name);
    if (pin !== undefined) pins.set(c.name, pin);
  }
  const changed = new Set<string>();
  const pin = (cluster: string, revision: string) => {
    if (pins.get(cluster) === revision) return;
    pins.set(cluster, revision);
    changed.add(cluster);
  };
  let budget = input.startBudget;
  let started = 0;
  const plan = (record: RolloutRecord | undefined, event?: RolloutPlan['event']): RolloutPlan => ({
    record,
    pins,
    changed: [...changed].sort(),
    dropped,
    started,
    event,
  });

  if (!target) {
    // nothing resolved yet: nothing to roll out (a rollout already under way keeps its state)
    return plan(input.record);
  }
  let record = input.record;
  if (!record) {
    // The first revision of the assignment (or rollout options just set on one that runs it):
    // every selected cluster gets it at once; stages gate the revisions that follow.
    for (const c of input.clusters) pin(c.name, target);
    return plan({
      tenant: input.tenant,
      assignment: input.assignment,
      revision: target,
      previousRevision: '',
      state: ROLLOUT_FINISHED,
      stage: options.stages.length,
      soakStartedAtMs: 0,
      message: 'first revision: every selected cluster got it at once',
      startedAtMs: nowMs,
      updatedAtMs: nowMs,
    });
  }
  if (record.revision !== target) {
    // a new revision (or rollback pin): start over from stage 1, superseding any rollout under way
    const superseded =
      record.state === ROLLOUT_PROGRESSING || record.state === ROLLOUT_PAUSED
        ? `supersedes the rollout of ${short(record.revision)} at stage ${record.stage + 1}`
        : '';
    record = {
      ...record,
      revision: target,
      previousRevision: stableRevision(record),
      state: ROLLOUT_PROGRESSING,
      stage: 0,
      soakStartedAtMs: 0,
      message: superseded,
      startedAtMs: nowMs,
      updatedAtMs: nowMs,
    };
  } else {
    record = { ...record };
  }
  const stageCount = options.stages.length + 1;
  const byStage: RolloutClusterInput[][] = Array.from({ length: stageCount }, () => []);
  for (const c of [...input.clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    byStage[stageOf(options, c.labels)].push(c);
  }
  const startOn = (c: RolloutClusterInput): boolean => {
    if (pins.get(c.name) === target) return true;
    if (!c.online) {
      // waited for: it takes the target when it returns, and counts as unavailable meanwhile
      pin(c.name, target);
      return true;
    }
    if (budget <= 0) return false;
    budget--;
    started++;
    pin(c.name, target);
    return true;
  };
  let event: RolloutPlan['event'];
  if (record.state === ROLLOUT_PROGRESSING) {
    // clusters of finished stages (joined since) run the target like the rest of their stage
    for (let s = 0; s < Math.min(record.stage, stageCount); s++) for (const c of byStage[s]) startOn(c);
    while (record.stage < stageCount) {
      const stage = byStage[record.stage];
      const failed = stage.filter((c) => pins.get(c.name) === target && isFailedAt(c, target));
      if (failed.length > options.maxFailures) {
        const first = failed[0];
        record.state = ROLLOUT_PAUSED;
        record.message =
          `paused at stage ${record.stage + 1} of ${stageCount}: ${failed.length} cluster(s) failed at ${short(target)}, ` +
          `more than --max-failures ${options.maxFailures} (${failed.map((c) => c.name).join(', ')}; ` +
          `${first.name}: ${(first.status?.message ?? '').slice(0, 200)}). ` +
          'Fix them and gitfleet rollout resume, or gitfleet rollout undo';
        record.updatedAtMs = nowMs;
        event = { kind: 'rollout.paused', message: record.message };
        break;
      }
      // settled: Ready at the target, or failed within --max-failures (it does not hold the stage)
      const settled = (c: RolloutClusterInput) =>
        pins.get(c.name) === target && c.online && (isReadyAt(c, target) || isFailedAt(c, target));
      const allReady = stage.every(settled);
      if (allReady) {
        if (!record.soakStartedAtMs) {
          record.soakStartedAtMs = nowMs;
          record.updatedAtMs = nowMs;
        }
        // an empty stage has nothing to soak
        if (stage.length > 0 && nowMs - record.soakStartedAtMs < options.soakSeconds * 1000) break;
        record.stage++;
        record.soakStartedAtMs = 0;
        record.updatedAtMs = nowMs;
        continue;
      }
      if (record.soakStartedAtMs) {
        // soaking is continuous: a cluster that left Ready starts it over
        record.soakStartedAtMs = 0;
        record.updatedAtMs = nowMs;
      }
      const unavailable = stage.filter(
        (c) => !c.online || (pins.get(c.name) === target && !settled(c)),
      ).length;
      let room = maxUnavailableOf(options.maxUnavailable, stage.length) - unavailable;
      for (const c of stage) {
        if (pins.get(c.name) === target) continue;
        if (!c.online) startOn(c);
        else if (room > 0 && startOn(c)) room--;
      }
      break;
    }
    if (record.stage >= stageCount) {
      record.state = ROLLOUT_FINISHED;
      record.message = '';
      record.updatedAtMs = nowMs;
      event = {
        kind: 'rollout.finished',
        message: `rollout of ${short(target)} finished: ${input.clusters.length} cluster(s) in ${stageCount} stage(s)`,
      };
    }
  } else if (record.state === ROLLOUT_FINISHED) {
    for (const c of input.clusters) startOn(c);
  } else if (record.state === ROLLOUT_PAUSED) {
    // no cluster starts while paused; those of finished stages that joined since follow their stage
    for (let s = 0; s < Math.min(record.stage, stageCount); s++) for (const c of byStage[s]) startOn(c);
  } else if (record.state === ROLLOUT_UNDONE) {
    for (const c of input.clusters) pin(c.name, record.previousRevision);
  }
  // every selected cluster without a pin: the revision the clusters not yet reached keep
  const stable = stableRevision(record);
  for (const c of input.clusters) if (!pins.has(c.name)) pin(c.name, stable);
  return plan(record, event);
}

/** What `gitfleet rollout status` shows of a rollout. */
export function rolloutView(
  record: RolloutRecord,
  options: RolloutOptions,
  clusters: readonly RolloutClusterInput[],
  pins: ReadonlyMap<string, string>,
): Rollout {
  const stageCount = options.stages.length + 1;
  const goal = goalOf(record);
  const stable = stableRevision(record);
  const stages: RolloutStage[] = Array.from({ length: stageCount }, (_, i) => ({
    selector: i < options.stages.length ? formatLabelSelector(options.stages[i]) : '',
    state:
      record.state === ROLLOUT_FINISHED || i < record.stage
        ? STAGE_DONE
        : i === record.stage
          ? record.soakStartedAtMs
            ? STAGE_SOAKING
            : STAGE_PROGRESSING
          : STAGE_PENDING,
    soakUntilMs:
      i === record.stage && record.soakStartedAtMs && record.state !== ROLLOUT_FINISHED
        ? record.soakStartedAtMs + options.soakSeconds * 1000
        : 0,
    clusters: [],
  }));
  for (const c of [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const revision = pins.get(c.name) ?? stable;
    stages[stageOf(options, c.labels)].clusters.push(clusterView(c, revision, goal));
  }
  return {
    tenant: record.tenant,
    assignment: record.assignment,
    revision: record.revision,
    previousRevision: record.previousRevision,
    state: record.state,
    stage: Math.min(record.stage, stageCount - 1) + 1,
    stages,
    message: record.message,
    startedAtMs: record.startedAtMs,
    updatedAtMs: record.updatedAtMs,
  };
}

function clusterView(c: RolloutClusterInput, revision: string, goal: string): RolloutCluster {
  const view = (state: string, message = ''): RolloutCluster => ({
    cluster: c.name,
    revision,
    state,
    message,
  });
  if (!c.online) {
    return view(
      CLUSTER_OFFLINE,
      `no heartbeat: waited for, counted as unavailable${revision !== goal ? `; runs ${short(revision)} until its stage starts` : ''}`,
    );
  }
  if (revision !== goal) return view(CLUSTER_WAITING, `runs ${short(revision)} until its stage starts`);
  if (isReadyAt(c, goal)) return view(CLUSTER_READY);
  if (isFailedAt(c, goal)) return view(CLUSTER_FAILED, (c.status?.message ?? '').slice(0, 300));
  return view(CLUSTER_UPDATING);
}
