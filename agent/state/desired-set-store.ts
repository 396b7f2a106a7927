// The last desired set, kept in the cluster so that an agent restarted while NATS (or the hub)
// is away still reconciles it. A Secret, because desired sets may carry git credentials; written
// and read with the agent's own identity only.
import { DesiredSet, LABEL_MANAGED_BY, MANAGED_BY } from '../../proto/index.js';
import type { KubeClient } from '../kube/kube-client.js';

export const DESIRED_SET_DATA_KEY = 'desired-set.pb';

export function desiredSetSecretName(cluster: string): string {
  return `gitfleet-desired-${cluster}`;
}

/** The Secret holds bytes that are not a desired set. */
export class UndecodableDesiredSetError extends Error {
  override readonly name = 'UndecodableDesiredSetError';
}

export class DesiredSetStore {
  private readonly name: string;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    cluster: string,
  ) {
    this.name = desiredSetSecretName(cluster);
  }

  async load(): Promise<DesiredSet | undefined> {
    const secret = await this.client.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: this.namespace,
      name: this.name,
    });
    const b64 = (secret?.data as Record<string, string> | undefined)?.[DESIRED_SET_DATA_KEY];
    if (!b64) return undefined;
    try {
      return DesiredSet.decode(Buffer.from(b64, 'base64'));
    } catch (err) {
      throw new UndecodableDesiredSetError(
        `Secret ${this.namespace}/${this.name}: ${DESIRED_SET_DATA_KEY} is not a desired set (${(err as Error).message})`,
      );
    }
  }

  /** Saves the set; undefined removes it (the hub deleted this cluster's key). */
  async save(set: DesiredSet | undefined): Promise<void> {
    if (!set) {
      await this.client.delete({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: this.namespace,
        name: this.name,
      });
      return;
    }
    await this.client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: {
          name: this.name,
          namespace: this.namespace,
          labels: { [LABEL_MANAGED_BY]: MANAGED_BY },
          annotations: { 'gitfleet.dev/generation': String(set.generation) },
        },
        data: { [DESIRED_SET_DATA_KEY]: Buffer.from(DesiredSet.encode(set).finish()).toString('base64') },
      },
      { force: true }, // the agent's own state
    );
  }
}
