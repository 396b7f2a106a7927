// The health `gitfleet tree` shows for one inventory object. A placeholder until agent/health
// (kstatus semantics, assessHealth) is merged: the integrator swaps the body of this one function
// for it. Until then: an object that exists is "Current", a missing one "NotFound".
import type { LiveObject } from '../kube/kube-client.js';

export interface ObjectHealth {
  health: string;
  message: string;
}

export function objectHealth(live: LiveObject | undefined): ObjectHealth {
  return live
    ? { health: 'Current', message: 'exists (health checks are not assessed yet)' }
    : { health: 'NotFound', message: 'not found on the cluster' };
}
