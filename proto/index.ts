// The contract hub, agent and CLI share: generated messages (resources and the bus), plus the
// hand-written names (subjects, keys, revisions, reasons, defaults). Import from here, not from
// proto/gen directly. Nothing here loads gRPC or Nest: the API's requests and grpc-js services
// are in ./api.ts (CLI client, hub), and the hub's Nest controller side in ./nest.ts.
export * from './gen/gitfleet/v1/resources.js';
export * from './gen/gitfleet/v1/bus.js';
// every generated file repeats these helpers; name one copy explicitly
export {
  protobufPackage,
  protobufFileName,
  type DeepPartial,
  type Exact,
  type MessageFns,
} from './gen/gitfleet/v1/resources.js';
export * from './contract/bus.js';
export * from './contract/revision.js';
export * from './contract/reasons.js';
export * from './contract/conditions.js';
export * from './contract/tenancy.js';
export * from './contract/tokens.js';
export * from './contract/validation.js';
export * from './contract/health.js';
export * from './contract/dependencies.js';
export * from './contract/label-selector.js';
export * from './contract/maintenance-window.js';

import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Directory that holds gitfleet/v1/*.proto (for Nest's proto-loader at run time). */
export const PROTO_ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  // from source (proto/) or from the build (dist/proto/): the .proto files stay in proto/
  return here.includes(`${join('dist', 'proto')}`) ? join(here, '..', '..', 'proto') : here;
})();

/** The .proto files of the hub's gRPC API, relative to PROTO_ROOT. */
export const API_PROTO_FILES = ['gitfleet/v1/api.proto', 'gitfleet/v1/resources.proto'];
