// The hub's gRPC API: request and response messages and the grpc-js service definitions and
// clients. Loads @grpc/grpc-js, so only what talks gRPC imports it (the CLI's client, the hub).
export * from './gen/gitfleet/v1/api.js';
