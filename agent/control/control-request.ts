// Reading a control request from the bus (pure): everything on the control subject is untrusted
// until it decodes, fits, names a known kind and valid names. What fails here becomes an error
// reply, never a crash.
import { AgentRequest, MAX_AGENT_REQUEST_BYTES } from '../../proto/index.js';
import { checkDnsLabel } from '../../proto/contract/validation.js';

/** The kinds of control request an agent answers. */
export const CONTROL_KINDS = ['reconcile', 'diff', 'tree'] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];

export interface ControlRequest {
  kind: ControlKind;
  tenant: string;
  assignment: string;
  deadlineMs: number;
}

export class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
}

function isKind(k: string): k is ControlKind {
  return (CONTROL_KINDS as readonly string[]).includes(k);
}

/** Decodes and checks one control request; throws ControlRequestError with a one-line reason. */
export function parseControlRequest(data: Uint8Array): ControlRequest {
  if (data.length > MAX_AGENT_REQUEST_BYTES) {
    throw new ControlRequestError(
      `control request refused: ${data.length} bytes is more than ${MAX_AGENT_REQUEST_BYTES}`,
    );
  }
  let req: AgentRequest;
  try {
    req = AgentRequest.decode(data);
  } catch (err) {
    throw new ControlRequestError(`control request refused: not an AgentRequest (${(err as Error).message})`);
  }
  if (!isKind(req.kind)) {
    throw new ControlRequestError(
      `control request refused: kind ${JSON.stringify(req.kind.slice(0, 32))} is not one of ${CONTROL_KINDS.join(', ')}`,
    );
  }
  try {
    checkDnsLabel('tenant', req.tenant);
    checkDnsLabel('assignment', req.assignment);
  } catch (err) {
    throw new ControlRequestError(`control request refused: ${(err as Error).message}`);
  }
  if (!Number.isSafeInteger(req.deadlineMs) || req.deadlineMs <= 0) {
    throw new ControlRequestError('control request refused: deadline_ms must be a time in milliseconds');
  }
  return { kind: req.kind, tenant: req.tenant, assignment: req.assignment, deadlineMs: req.deadlineMs };
}
