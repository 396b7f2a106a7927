// The client verbs, one file per noun; each talks to the hub's gRPC API.
import type { Command } from 'commander';
import { registerAgentControl } from './agent-control.js';
import { registerAlert } from './alert.js';
import { registerArtifact } from './artifact.js';
import { registerAssignment } from './assignment.js';
import { registerAudit } from './audit.js';
import { registerBus } from './bus.js';
import { registerCluster } from './cluster.js';
import { registerControl } from './control.js';
import { registerGroup } from './group.js';
import { registerReceiver } from './receiver.js';
import { registerRepo } from './repo.js';
import { registerRollout } from './rollout.js';
import { registerStatus } from './status.js';
import { registerTenant } from './tenant.js';
import { registerToken } from './token.js';

export function registerClientCommands(program: Command): void {
  registerTenant(program);
  registerRepo(program);
  registerCluster(program);
  registerGroup(program);
  registerAssignment(program);
  registerControl(program);
  registerRollout(program);
  registerStatus(program);
  registerAgentControl(program);
  registerToken(program);
  registerAudit(program);
  registerBus(program);
  registerArtifact(program);
  registerReceiver(program);
  registerAlert(program);
}
