// A typed, promise-based client of the hub's gRPC API (grpc-js with the generated service
// definitions). Requests are partial messages: missing fields get their proto defaults.
import {
  credentials as grpcCredentials,
  type CallOptions,
  type ChannelCredentials,
  Metadata,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { type AssignmentStatus, type DeepPartial, type MessageFns } from '../../proto/index.js';
import {
  AssignmentServiceClient,
  AssignmentServiceService,
  AuditServiceClient,
  AuditServiceService,
  CreateTokenRequest,
  ListAuditRequest,
  ListTokensRequest,
  RevokeTokenRequest,
  TokenServiceClient,
  TokenServiceService,
  ClusterServiceClient,
  ClusterServiceService,
  AlertServiceClient,
  AlertServiceService,
  CreateAlertRequest,
  DeleteAlertRequest,
  GetAlertRequest,
  ListAlertsRequest,
  TestAlertRequest,
  CreateJoinTokenRequest,
  JoinRequest,
  JoinServiceClient,
  JoinServiceService,
  RevokeClusterRequest,
  CreateAssignmentRequest,
  CreateClusterRequest,
  CreateRepoRequest,
  CreateTenantRequest,
  DeleteAssignmentRequest,
  DiffAssignmentRequest,
  ReconcileAssignmentRequest,
  TreeAssignmentRequest,
  DeleteClusterRequest,
  DeleteRepoRequest,
  DeleteTenantRequest,
  GetAssignmentRequest,
  GetClusterRequest,
  GetRepoRequest,
  GetStatusRequest,
  GetTenantRequest,
  ListAssignmentsRequest,
  ListAssignmentHistoryRequest,
  RollbackAssignmentRequest,
  ListClustersRequest,
  ListReposRequest,
  ListTenantsRequest,
  RepoServiceClient,
  RepoServiceService,
  ResolveRepoRequest,
  StatusServiceClient,
  StatusServiceService,
  TenantServiceClient,
  TenantServiceService,
  UpdateAssignmentRequest,
  UpdateClusterRequest,
  UpdateRepoRequest,
  UpdateTenantRequest,
  GetRolloutRequest,
  RolloutActionRequest,
  RolloutServiceClient,
  RolloutServiceService,
  CreateGroupRequest,
  DeleteGroupRequest,
  GetGroupRequest,
  GroupServiceClient,
  GroupServiceService,
  ListGroupsRequest,
  UpdateGroupRequest,
  ReceiverServiceClient,
  ReceiverServiceService,
  CreateReceiverRequest,
  GetReceiverRequest,
  ListReceiversRequest,
  DeleteReceiverRequest,
} from '../../proto/api.js';

interface MethodDef {
  path: string;
  responseStream: boolean;
  requestSerialize(value: never): Buffer;
  responseDeserialize(value: Buffer): unknown;
}
type ServiceDef = Record<string, MethodDef>;
type Req<M extends MethodDef> = Parameters<M['requestSerialize']>[0];
type Res<M extends MethodDef> = ReturnType<M['responseDeserialize']>;

/** Unary methods as promises: `await hub.tenants.createTenant({ tenant: {...} })`. */
export type UnaryClient<D extends ServiceDef> = {
  [K in keyof D as D[K]['responseStream'] extends true ? never : K]: (
    request?: DeepPartial<Req<D[K]>>,
    options?: CallOptions,
  ) => Promise<Res<D[K]>>;
};

export interface HubClientOptions {
  /** Deadline of each unary call (default 30 s). */
  deadlineMs?: number;
  /**
   * TLS to the hub: `true` trusts the system's roots, a PEM buffer trusts that CA (the hub's
   * own, e.g. self-signed). Absent: plaintext (a hub serves it on loopback only).
   */
  tls?: true | Buffer;
  /** Bearer token sent with every call ("gft_…"). */
  token?: string;
}

export interface HubClient {
  tenants: UnaryClient<typeof TenantServiceService>;
  repos: UnaryClient<typeof RepoServiceService>;
  clusters: UnaryClient<typeof ClusterServiceService>;
  groups: UnaryClient<typeof GroupServiceService>;
  assignments: UnaryClient<typeof AssignmentServiceService>;
  status: UnaryClient<typeof StatusServiceService> & {
    /** Server stream of statuses; cancel() ends it. */
    watchStatus(request?: DeepPartial<GetStatusRequest>): ClientReadableStream<AssignmentStatus>;
  };
  tokens: UnaryClient<typeof TokenServiceService>;
  audit: UnaryClient<typeof AuditServiceService>;
  /** What an agent calls with a join token (no bearer token needed). */
  join: UnaryClient<typeof JoinServiceService>;
  rollouts: UnaryClient<typeof RolloutServiceService>;
  receivers: UnaryClient<typeof ReceiverServiceService>;
  alerts: UnaryClient<typeof AlertServiceService>;
  close(): void;
}

/** gRPC errors carry the status code (grpc `status.*`) and the hub's message in `details`. */
export type HubError = ServiceError;

function unaryClient<D extends ServiceDef>(
  client: Client,
  def: D,
  requests: { [K in keyof D]?: MessageFns<never> },
  deadlineMs: number,
  metadata: () => Metadata,
): UnaryClient<D> {
  const out: Record<string, unknown> = {};
  for (const [method, m] of Object.entries(def)) {
    if (m.responseStream) continue;
    const type = requests[method] as MessageFns<unknown> | undefined;
    out[method] = (request: unknown = {}, options: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method].bind(client);
        const full = type ? type.fromPartial(request as never) : request;
        fn(
          full,
          metadata(),
          { deadline: Date.now() + deadlineMs, ...options },
          (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)),
        );
      });
  }
  return out as UnaryClient<D>;
}

export function createHubClient(address: string, opts: HubClientOptions = {}): HubClient {
  const deadlineMs = opts.deadlineMs ?? 30_000;
  const creds = opts.tls
    ? grpcCredentials.createSsl(opts.tls === true ? null : opts.tls)
    : grpcCredentials.createInsecure();
  // the generated grpc-js clients, one channel each
  const make = (ctor: new (address: string, creds: ChannelCredentials) => Client): Client =>
    new ctor(address, creds);
  const tenants = make(TenantServiceClient);
  const repos = make(RepoServiceClient);
  const clusters = make(ClusterServiceClient);
  const groups = make(GroupServiceClient);
  const assignments = make(AssignmentServiceClient);
  const status = new StatusServiceClient(address, creds);
  const tokens = make(TokenServiceClient);
  const audit = make(AuditServiceClient);
  const join = make(JoinServiceClient);
  const rollouts = make(RolloutServiceClient);
  const receivers = make(ReceiverServiceClient);
  const alerts = make(AlertServiceClient);
  const m = <T>(fns: MessageFns<T>): MessageFns<never> => fns as unknown as MessageFns<never>;
  // the bearer token on every call (plaintext only reaches a hub on loopback: see parseTls)
  const metadata = (): Metadata => {
    const md = new Metadata();
    if (opts.token) md.set('authorization', `Bearer ${opts.token}`);
    return md;
  };
  return {
    tenants: unaryClient(
      tenants,
      TenantServiceService,
      {
        createTenant: m(CreateTenantRequest),
        getTenant: m(GetTenantRequest),
        listTenants: m(ListTenantsRequest),
        updateTenant: m(UpdateTenantRequest),
        deleteTenant: m(DeleteTenantRequest),
      },
      deadlineMs,
      metadata,
    ),
    repos: unaryClient(
      repos,
      RepoServiceService,
      {
        createRepo: m(CreateRepoRequest),
        getRepo: m(GetRepoRequest),
        listRepos: m(ListReposRequest),
        updateRepo: m(UpdateRepoRequest),
        deleteRepo: m(DeleteRepoRequest),
        resolveRepo: m(ResolveRepoRequest),
      },
      deadlineMs,
      metadata,
    ),
    clusters: unaryClient(
      clusters,
      ClusterServiceService,
      {
        createCluster: m(CreateClusterRequest),
        getCluster: m(GetClusterRequest),
        listClusters: m(ListClustersRequest),
        updateCluster: m(UpdateClusterRequest),
        deleteCluster: m(DeleteClusterRequest),
        createJoinToken: m(CreateJoinTokenRequest),
        revokeCluster: m(RevokeClusterRequest),
      },
      deadlineMs,
      metadata,
    ),
    groups: unaryClient(
      groups,
      GroupServiceService,
      {
        createGroup: m(CreateGroupRequest),
        getGroup: m(GetGroupRequest),
        listGroups: m(ListGroupsRequest),
        updateGroup: m(UpdateGroupRequest),
        deleteGroup: m(DeleteGroupRequest),
      },
      deadlineMs,
      metadata,
    ),
    assignments: unaryClient(
      assignments,
      AssignmentServiceService,
      {
        createAssignment: m(CreateAssignmentRequest),
        getAssignment: m(GetAssignmentRequest),
        listAssignments: m(ListAssignmentsRequest),
        updateAssignment: m(UpdateAssignmentRequest),
        deleteAssignment: m(DeleteAssignmentRequest),
        listAssignmentHistory: m(ListAssignmentHistoryRequest),
        rollbackAssignment: m(RollbackAssignmentRequest),
        reconcileAssignment: m(ReconcileAssignmentRequest),
        diffAssignment: m(DiffAssignmentRequest),
        treeAssignment: m(TreeAssignmentRequest),
      },
      deadlineMs,
      metadata,
    ),
    status: {
      ...unaryClient(status, StatusServiceService, { getStatus: m(GetStatusRequest) }, deadlineMs, metadata),
      watchStatus: (request = {}) => status.watchStatus(GetStatusRequest.fromPartial(request), metadata()),
    },
    tokens: unaryClient(
      tokens,
      TokenServiceService,
      {
        createToken: m(CreateTokenRequest),
        listTokens: m(ListTokensRequest),
        revokeToken: m(RevokeTokenRequest),
      },
      deadlineMs,
      metadata,
    ),
    audit: unaryClient(audit, AuditServiceService, { listAudit: m(ListAuditRequest) }, deadlineMs, metadata),
    join: unaryClient(join, JoinServiceService, { join: m(JoinRequest) }, deadlineMs, metadata),
    rollouts: unaryClient(
      rollouts,
      RolloutServiceService,
      {
        getRollout: m(GetRolloutRequest),
        pauseRollout: m(RolloutActionRequest),
        resumeRollout: m(RolloutActionRequest),
        abortRollout: m(RolloutActionRequest),
        undoRollout: m(RolloutActionRequest),
      },
      deadlineMs,
      metadata,
    ),
    receivers: unaryClient(
      receivers,
      ReceiverServiceService,
      {
        createReceiver: m(CreateReceiverRequest),
        getReceiver: m(GetReceiverRequest),
        listReceivers: m(ListReceiversRequest),
        deleteReceiver: m(DeleteReceiverRequest),
      },
      deadlineMs,
      metadata,
    ),
    alerts: unaryClient(
      alerts,
      AlertServiceService,
      {
        createAlert: m(CreateAlertRequest),
        getAlert: m(GetAlertRequest),
        listAlerts: m(ListAlertsRequest),
        deleteAlert: m(DeleteAlertRequest),
        testAlert: m(TestAlertRequest),
      },
      deadlineMs,
      metadata,
    ),
    close(): void {
      for (const c of [
        tenants,
        repos,
        clusters,
        groups,
        assignments,
        status,
        tokens,
        audit,
        join,
        rollouts,
        receivers,
        alerts,
      ])
        c.close();
    },
  };
}
