// Condition reasons, PascalCase as in Flux. Steps return one of these; status and events carry
// the same word.
export const Reason = {
  /** Published to the cluster; the agent has not reported yet. */
  Pending: 'Pending',
  Progressing: 'Progressing',
  ReconciliationSucceeded: 'ReconciliationSucceeded',
  Suspended: 'Suspended',
  /** The source could not be fetched (git clone/fetch, missing commit, credentials). */
  ArtifactFailed: 'ArtifactFailed',
  /** The path is missing, a file does not parse, an object is not a valid Kubernetes object. */
  BuildFailed: 'BuildFailed',
  /**
   * The revision holds an object the tenant may not apply (another namespace, a cluster-scoped
   * kind not granted, a binding to cluster-admin): refused before any API call, nothing applied.
   */
  PolicyViolation: 'PolicyViolation',
  /** The API server refused an object (validation, RBAC, conflicts). */
  ApplyFailed: 'ApplyFailed',
  /** Objects that left the revision could not be deleted. */
  PruneFailed: 'PruneFailed',
  /** The inventory ConfigMap (what the agent applied) could not be read, saved or deleted. */
  InventoryFailed: 'InventoryFailed',
  /** The tenant's namespaces, ServiceAccount or RoleBindings could not be ensured. */
  TenantSetupFailed: 'TenantSetupFailed',
  /** The hub could not resolve the repo's ref to a revision. */
  RevisionNotResolved: 'RevisionNotResolved',
  /**
   * The cluster's desired set is larger than the bus can carry (NATS max_payload): the hub did not
   * publish it, and the cluster keeps running its previous desired set.
   */
  DesiredSetTooLarge: 'DesiredSetTooLarge',
  /**
   * The hub's store does not own the bus and the bus holds another store's desired set for this
   * cluster: the hub left it untouched (see `gitfleet hub --adopt-bus`).
   */
  BusNotOwned: 'BusNotOwned',
  /** Applied; waiting for the objects to be healthy (--wait, --health-check) until the timeout. */
  HealthCheckPending: 'HealthCheckPending',
  /** An object's health is Failed, or objects were not healthy within the timeout. */
  HealthCheckFailed: 'HealthCheckFailed',
  /**
   * A dependency (depends_on) is not Ready on this cluster yet, is not assigned to it, or the
   * dependencies form a cycle: nothing is applied until they are Ready.
   */
  DependencyNotReady: 'DependencyNotReady',
  /**
   * A new revision waits for the cluster's next maintenance window: what is applied stays (drift
   * corrected, health re-read) and the new revision goes through when a window opens.
   */
  MaintenanceWindow: 'MaintenanceWindow',
  /** The assignment no longer selects this cluster; its objects were pruned. */
  Deleted: 'Deleted',
} as const;

export type Reason = (typeof Reason)[keyof typeof Reason];

/** Condition types, as in Flux. Ready is always set; Reconciling and Stalled only while true. */
export const ConditionType = {
  /** The desired revision is applied (True), failed (False) or not known yet (Unknown). */
  Ready: 'Ready',
  /** The agent is applying a new revision. */
  Reconciling: 'Reconciling',
  /** The last pass failed in a way retrying cannot fix; it needs a new revision. */
  Stalled: 'Stalled',
} as const;

export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionStatus = {
  True: 'True',
  False: 'False',
  Unknown: 'Unknown',
} as const;

export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

/** Field manager used for every server-side apply. */
export const FIELD_MANAGER = 'gitfleet';

/** Labels and annotations gitfleet puts on what it manages. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** The value of LABEL_MANAGED_BY on everything gitfleet creates. */
export const MANAGED_BY = 'gitfleet';
export const LABEL_TENANT = 'gitfleet.dev/tenant';
export const LABEL_ASSIGNMENT = 'gitfleet.dev/assignment';

/** Defaults shared by hub and agent. */
export const DEFAULT_SERVICE_ACCOUNT = 'gitfleet-reconciler';
export const DEFAULT_CLUSTER_ROLE = 'admin';
export const DEFAULT_REPO_INTERVAL_SECONDS = 60;
/** The hub's gRPC address (where `gitfleet hub` listens and where client verbs call). */
export const DEFAULT_HUB_ADDRESS = '127.0.0.1:7400';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
/** The hub's embedded store: a SQLite file in the working directory. */
export const DEFAULT_DB = 'gitfleet.db';
/** The agent's own namespace: inventories, the persisted desired set. */
export const DEFAULT_AGENT_NAMESPACE = 'gitfleet-system';
