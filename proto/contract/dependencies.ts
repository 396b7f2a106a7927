// The dependency graph of assignments (depends_on, as Flux's dependsOn): pure, shared by the hub
// (refuses a create or update that would close a cycle) and the agent (never waits forever on a
// cycle in a desired set that a forged or racing write produced).

/** name → the names it depends on (one tenant's assignments). */
export type DependencyGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The first cycle reachable from `start`, as the path that closes it ("a", "b", "a"), or
 * undefined. Iterative depth-first search: linear in the graph, no recursion limit on long chains.
 */
export function findCycle(graph: DependencyGraph, start: string): string[] | undefined {
  const done = new Set<string>();
  const onPath = new Map<string, number>(); // name → index in path
  const path: string[] = [];
  const stack: Array<{ name: string; next: number }> = [{ name: start, next: 0 }];
  onPath.set(start, 0);
  path.push(start);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const deps = graph.get(top.name) ?? [];
    if (top.next < deps.length) {
      const dep = deps[top.next++];
      const at = onPath.get(dep);
      if (at !== undefined) return [...path.slice(at), dep];
      if (done.has(dep)) continue;
      onPath.set(dep, path.length);
      path.push(dep);
      stack.push({ name: dep, next: 0 });
    } else {
      stack.pop();
      path.pop();
      onPath.delete(top.name);
      done.add(top.name);
    }
  }
  return undefined;
}

/** "a → b → a" */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' → ');
}
