// jest runs gitfleet's ESM TypeScript through ts-jest (see ../shared/ARCHITECTURE.md, toolchain).
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
};

export default {
  // integration suites start real servers; a single test may wait on a reconcile
  testTimeout: 120_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{cli,lib,hub,agent,proto}/**/*.spec.ts',
        '<rootDir>/test/{unit,fuzz}/**/*.spec.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      // real servers (kube-apiserver, etcd, nats-server, git, registry) per suite
      testMatch: ['<rootDir>/test/{env,integration,e2e,hostile}/**/*.test.ts'],
    },
  ],
};
