// The hub's side of the gRPC API for Nest: controller interfaces, the generated
// `@XServiceControllerMethods()` decorators and the package and service names. Only the hub
// imports this (it loads @nestjs/microservices); messages come from ./index.ts.
export {
  GITFLEET_V1_PACKAGE_NAME,
  TENANT_SERVICE_NAME,
  REPO_SERVICE_NAME,
  CLUSTER_SERVICE_NAME,
  ASSIGNMENT_SERVICE_NAME,
  STATUS_SERVICE_NAME,
  TOKEN_SERVICE_NAME,
  AUDIT_SERVICE_NAME,
  TenantServiceControllerMethods,
  RepoServiceControllerMethods,
  ClusterServiceControllerMethods,
  AssignmentServiceControllerMethods,
  StatusServiceControllerMethods,
  TokenServiceControllerMethods,
  AuditServiceControllerMethods,
  type TenantServiceController,
  type RepoServiceController,
  type ClusterServiceController,
  type AssignmentServiceController,
  type StatusServiceController,
  type TokenServiceController,
  type AuditServiceController,
} from './gen/nest/gitfleet/v1/api.js';
