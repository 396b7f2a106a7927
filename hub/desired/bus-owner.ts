// Who may rewrite the desired sets on the bus (pure). The bus records the id of the store that owns
// it; a hub whose store is another one, or is empty while the bus holds desired sets, would
// otherwise "reconcile" the fleet to its own (empty) view: delete every key it does not know, and
// every agent would prune. Such a hub leaves what it does not know alone until the operator
// starts it with --adopt-bus.

export interface OwnershipInput {
  storeId: string;
  /** The store id recorded on the bus, undefined when none is. */
  busOwner: string | undefined;
  /** Clusters in this hub's store. */
  storeClusters: number;
  /** Desired-set keys on the bus. */
  busKeys: number;
  adopt: boolean;
}

export type OwnershipDecision =
  /** this store owns the bus already */
  | { action: 'own' }
  /** record this store as the owner, then reconcile */
  | { action: 'claim'; why: string }
  /** leave keys this store does not know alone */
  | { action: 'refuse'; why: string };

export function decideOwnership(i: OwnershipInput): OwnershipDecision {
  if (i.busOwner === i.storeId) return { action: 'own' };
  const advice =
    'the hub serves its API but leaves desired sets it does not know untouched (no deletes, no overwrites); ' +
    'start it with --adopt-bus to make this store the owner (it then deletes every desired set this store does not know)';
  if (i.busOwner !== undefined) {
    if (i.adopt) return { action: 'claim', why: `adopting the bus from store ${i.busOwner} (--adopt-bus)` };
    return {
      action: 'refuse',
      why: `the bus is owned by another hub store (${i.busOwner}; this store is ${i.storeId}): ${advice}`,
    };
  }
  if (i.storeClusters === 0 && i.busKeys > 0) {
    if (i.adopt)
      return { action: 'claim', why: `adopting a bus with ${i.busKeys} desired sets (--adopt-bus)` };
    return {
      action: 'refuse',
      why: `this hub's store has no clusters but the bus holds ${i.busKeys} desired sets of no recorded owner: ${advice}`,
    };
  }
  return { action: 'claim', why: 'the bus has no owner yet' };
}
