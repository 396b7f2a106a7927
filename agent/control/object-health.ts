// The health `gitfleet tree` shows for one inventory object: agent/health's assessment (kstatus
// semantics, or the assignment's CEL expressions for the object's kind).
import type { HealthExpr } from '../../proto/index.js';
import { assessHealth } from '../health/health-assessment.js';
import type { LiveObject } from '../kube/kube-client.js';

export interface ObjectHealth {
  health: string;
  message: string;
}

export function objectHealth(live: LiveObject | undefined, exprs: readonly HealthExpr[] = []): ObjectHealth {
  const a = assessHealth(live, exprs);
  return { health: a.status, message: a.message };
}
