// Control of one assignment on its clusters, through their agents (gitfleet reconcile|diff|tree):
// the hub checks the request, picks the clusters, and asks each agent over NATS request/reply.
import { Inject, Injectable } from '@nestjs/common';
import {
  AgentRequest,
  MAX_CONTROL_TIMEOUT_MS,
  type AgentReply,
  type Assignment,
  type AssignmentStatus,
} from '../../proto/index.js';
import type {
  ClusterOutcome,
  DiffAssignmentRequest,
  DiffAssignmentResponse,
  ReconcileAssignmentRequest,
  ReconcileAssignmentResponse,
  TreeAssignmentRequest,
  TreeAssignmentResponse,
} from '../../proto/api.js';
import type { Logger } from '../../lib/log.js';
import { FailedPreconditionError, ValidationError } from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { DesiredService } from '../desired/desired.service.js';
import { assignmentSelects } from '../desired/selector.js';
import { ReposService } from '../repos/repos.service.js';
import { AgentRequestsRepository, type AgentAnswer } from './agent-requests.repository.js';
import { AssignmentsRepository } from './assignments.repository.js';
import { AssignmentsService } from './assignments.service.js';

/** How long `gitfleet reconcile` waits for the agents unless told (seconds). */
export const DEFAULT_RECONCILE_TIMEOUT_SECONDS = 60;
/** How long the hub waits for an agent's diff or tree. */
export const READ_TIMEOUT_MS = 60_000;

/** The request's timeout in milliseconds: 1 s to MAX_CONTROL_TIMEOUT_MS, default 60 s. */
export function reconcileTimeoutMs(seconds: number): number {
  if (!seconds) return DEFAULT_RECONCILE_TIMEOUT_SECONDS * 1000;
  const max = MAX_CONTROL_TIMEOUT_MS / 1000;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > max) {
    throw new ValidationError('timeout_seconds', `must be 1 to ${max} seconds (got ${seconds})`);
  }
  return seconds * 1000;
}

@Injectable()
export class AssignmentControlService {
  private readonly log: Logger;

  constructor(
    @Inject(AssignmentsService) private readonly assignments: AssignmentsService,
    @Inject(AssignmentsRepository) private readonly store: AssignmentsRepository,
    @Inject(ReposService) private readonly repos: ReposService,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(AgentRequestsRepository) private readonly agents: AgentRequestsRepository,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'assignment-control' });
  }

  async reconcile(req: ReconcileAssignmentRequest): Promise<ReconcileAssignmentResponse> {
    const timeoutMs = reconcileTimeoutMs(req.timeoutSeconds);
    const a = await this.assignments.get(req.tenant, req.name);
    const clusters = await this.selected(a, req.cluster);
    if (clusters.length === 0) return { outcomes: [] };
    if (req.withSource) {
      // as ResolveRepo, then publish what it resolved to before the agents are asked
      await this.repos.resolve(a.tenant, a.repo);
      await this.desired.settled();
    }
    this.log.info({ assignment: `${a.tenant}/${a.name}`, clusters, withSource: req.withSource }, 'reconcile');
    const deadlineMs = Date.now() + timeoutMs;
    const outcomes = await Promise.all(
      clusters.map(async (cluster): Promise<ClusterOutcome> => {
        const answer = await this.ask(cluster, a, 'reconcile', timeoutMs, deadlineMs);
        const base = { cluster, status: undefined, error: '', timedOut: false };
        if ('timedOut' in answer) return { ...base, timedOut: true };
        if ('error' in answer) return { ...base, error: answer.error };
        const status = answer.reply.status;
        if (!status || !sameAssignment(status, cluster, a)) {
          return { ...base, error: `the agent of cluster ${cluster} answered about another assignment` };
        }
        return { ...base, status };
      }),
    );
    return { outcomes };
  }

  async diff(req: DiffAssignmentRequest): Promise<DiffAssignmentResponse> {
    const { a, cluster } = await this.oneCluster(req);
    const reply = await this.read(cluster, a, 'diff');
    return { revision: reply.revision, objects: reply.diff };
  }

  async tree(req: TreeAssignmentRequest): Promise<TreeAssignmentResponse> {
    const { a, cluster } = await this.oneCluster(req);
    const reply = await this.read(cluster, a, 'tree');
    return { revision: reply.revision, objects: reply.objects };
  }

  private async oneCluster(req: { tenant: string; name: string; cluster: string }) {
    checkDnsLabel('cluster', req.cluster);
    const a = await this.assignments.get(req.tenant, req.name);
    const [cluster] = await this.selected(a, req.cluster);
    return { a, cluster };
  }

  /** A diff or tree answer; anything but an answer is an error naming the cluster. */
  private async read(cluster: string, a: Assignment, kind: 'diff' | 'tree'): Promise<AgentReply> {
    const answer = await this.ask(cluster, a, kind, READ_TIMEOUT_MS, Date.now() + READ_TIMEOUT_MS);
    // not UNAVAILABLE: the CLI reads that as "the hub is unreachable"
    if ('timedOut' in answer) {
      throw new FailedPreconditionError(
        `the agent of cluster ${cluster} did not answer within ${READ_TIMEOUT_MS / 1000}s`,
      );
    }
    if ('error' in answer) throw new FailedPreconditionError(answer.error);
    return answer.reply;
  }

  private async ask(
    cluster: string,
    a: Assignment,
    kind: string,
    timeoutMs: number,
    deadlineMs: number,
  ): Promise<AgentAnswer> {
    const request = AgentRequest.fromPartial({ kind, tenant: a.tenant, assignment: a.name, deadlineMs });
    const answer = await this.agents.request(cluster, request, timeoutMs);
    if ('reply' in answer && answer.reply.error) {
      return { error: `cluster ${cluster}: ${answer.reply.error}` };
    }
    return answer;
  }

  /** The clusters the assignment selects now, or only `only` (which it must select). */
  private async selected(a: Assignment, only: string): Promise<string[]> {
    if (only) checkDnsLabel('cluster', only);
    const names = (await this.store.clusterIdentities())
      .filter((c) => assignmentSelects(a, c, c.inGroups))
      .map((c) => c.name)
      .sort();
    if (!only) return names;
    if (!names.includes(only)) {
      throw new FailedPreconditionError(
        `assignment ${a.tenant}/${a.name} does not select cluster ${JSON.stringify(only)}`,
      );
    }
    return [only];
  }
}

function sameAssignment(s: AssignmentStatus, cluster: string, a: Assignment): boolean {
  return s.cluster === cluster && s.tenant === a.tenant && s.assignment === a.name;
}
