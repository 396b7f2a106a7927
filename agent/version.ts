// The agent's version: gitfleet's (lib/version.ts), as its heartbeats report it.
export { gitfleetVersion as agentVersion } from '../lib/version.js';
