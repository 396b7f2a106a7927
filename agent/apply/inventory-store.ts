// Inventories live as ConfigMaps in the agent's namespace, written with the agent's own identity
// (tenants cannot touch them), listed by label to find assignments that went away.
import { LABEL_ASSIGNMENT, LABEL_MANAGED_BY, MANAGED_BY, LABEL_TENANT } from '../../proto/index.js';
import type { KubeClient, LiveObject } from '../kube/kube-client.js';
import type { ManifestObject } from '../kube/objects.js';
import {
  ANNOTATION_ASSIGNMENT,
  ANNOTATION_TENANT,
  INVENTORY_DATA_KEY,
  INVENTORY_LABEL,
  decodeInventory,
  encodeInventory,
  inventoryName,
  labelValue,
  sameInventory,
  type Inventory,
} from './inventory.js';

/** Told each inventory as a pass leaves it (undefined: the assignment's inventory is gone). */
export type InventoryListener = (tenant: string, assignment: string, inv: Inventory | undefined) => void;

export class InventoryStore {
  private listener: InventoryListener | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
  ) {}

  /** The drift watch follows the inventories through this (one listener). */
  onChange(listener: InventoryListener): void {
    this.listener = listener;
  }

  async get(tenant: string, assignment: string): Promise<Inventory | undefined> {
    const cm = await this.client.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: this.namespace,
      name: inventoryName(tenant, assignment),
    });
    return cm ? this.decode(cm) : undefined;
  }

  /** Writes the inventory unless it equals `previous` (no write when nothing changed). */
  async save(inv: Inventory, previous?: Inventory): Promise<void> {
    await this.write(inv, previous);
    this.listener?.(inv.tenant, inv.assignment, inv);
  }

  private async write(inv: Inventory, previous?: Inventory): Promise<void> {
    if (sameInventory(previous, inv)) return;
    const cm: ManifestObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: inventoryName(inv.tenant, inv.assignment),
        namespace: this.namespace,
        labels: {
          [LABEL_MANAGED_BY]: MANAGED_BY,
          [INVENTORY_LABEL]: 'true',
          [LABEL_TENANT]: labelValue(inv.tenant),
          [LABEL_ASSIGNMENT]: labelValue(inv.assignment),
        },
        annotations: { [ANNOTATION_TENANT]: inv.tenant, [ANNOTATION_ASSIGNMENT]: inv.assignment },
      },
      data: { [INVENTORY_DATA_KEY]: encodeInventory(inv) },
    };
    await this.client.apply(cm, { force: true }); // the agent's own record
  }

  async delete(tenant: string, assignment: string): Promise<void> {
    await this.client.delete({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: this.namespace,
      name: inventoryName(tenant, assignment),
    });
    this.listener?.(tenant, assignment, undefined);
  }

  /** Every inventory on this cluster. Unreadable ones are skipped, never guessed. */
  async list(): Promise<Inventory[]> {
    const items = await this.client.list('v1', 'ConfigMap', this.namespace, {
      labelSelector: `${INVENTORY_LABEL}=true`,
    });
    const out: Inventory[] = [];
    for (const cm of items) {
      const inv = this.decode(cm);
      if (inv) out.push(inv);
    }
    return out;
  }

  private decode(cm: LiveObject): Inventory | undefined {
    const data = cm.data as Record<string, string> | undefined;
    const text = data?.[INVENTORY_DATA_KEY];
    if (!text) return undefined;
    try {
      return decodeInventory(text);
    } catch {
      return undefined;
    }
  }
}
