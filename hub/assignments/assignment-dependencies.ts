// The hub's checks of an assignment's dependencies against the tenant's other assignments (pure):
// every name exists, no cycle is closed, and nothing is deleted while others depend on it (the
// same stance as a repo that assignments use: dependents would wait for ever on every cluster).
import type { Assignment } from '../../proto/index.js';
import { findCycle, formatCycle, ValidationError } from '../../proto/index.js';
import { FailedPreconditionError, scoped } from '../common/errors.js';

type Node = Pick<Assignment, 'tenant' | 'name' | 'dependsOn'>;

/**
 * Throws unless `next` (created, or replacing the assignment of its name) depends only on
 * existing assignments of its tenant (`others`: the tenant's assignments as stored) and closes no
 * cycle. The cycle is named in full: "assignment.depends_on: dependency cycle: a → b → a".
 */
export function checkDependencies(next: Node, others: readonly Node[]): void {
  const graph = new Map<string, readonly string[]>();
  for (const a of others) if (a.tenant === next.tenant) graph.set(a.name, a.dependsOn ?? []);
  next.dependsOn.forEach((dep, i) => {
    if (!graph.has(dep) || dep === next.name) {
      throw new ValidationError(
        `assignment.depends_on[${i}]`,
        `assignment ${JSON.stringify(scoped(next.tenant, dep))} does not exist: create it first (dependencies are assignments of the same tenant)`,
      );
    }
  });
  graph.set(next.name, next.dependsOn);
  const cycle = findCycle(graph, next.name);
  if (cycle) {
    throw new ValidationError(
      'assignment.depends_on',
      `dependency cycle ${formatCycle(cycle)}: an assignment cannot wait for itself`,
    );
  }
}

/** Throws while other assignments of the tenant depend on `name`. */
export function checkNoDependents(tenant: string, name: string, others: readonly Node[]): void {
  const dependents = others
    .filter((a) => a.tenant === tenant && a.name !== name && (a.dependsOn ?? []).includes(name))
    .map((a) => scoped(a.tenant, a.name));
  if (dependents.length > 0) {
    throw new FailedPreconditionError(
      `assignment ${JSON.stringify(scoped(tenant, name))} is a dependency of ${dependents.join(', ')}: remove it from their --depends-on (assignment update) or delete them first`,
    );
  }
}
