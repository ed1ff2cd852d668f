// Four projects: `unit` (pure logic, milliseconds, no processes), `integration` (a real
// kube-apiserver + etcd started once in globalSetup, and network-namespace labs that need
// root), `chaos` (seeded fault rounds against a control plane of its own) and `cluster`
// (a real node: kubelet, containerd, the module installed with `npx pepr deploy`).
// `npm test` runs all four.
const transform = {
  "^.+\\.[tj]s$": [
    "ts-jest",
    // pepr requires ESM-only packages; ts-jest turns them into CommonJS for Jest on Node 20.
    { tsconfig: { allowJs: true, module: "commonjs", esModuleInterop: true, skipLibCheck: true }, diagnostics: false },
  ],
};
const transformIgnorePatterns = [
  "/node_modules/(?!(kubernetes-fluent-client|@kubernetes/client-node|openid-client|oauth4webapi|jose|hpagent|jsonpath-plus|@jsep-plugin|jsep)/)",
];

// Test runs write etcd data (with *.snap files Jest would take for its own snapshots)
// and module builds under .lab/: never part of the module graph.
const modulePathIgnorePatterns = ["<rootDir>/.lab/"];

module.exports = {
  // The integration tests share one API server and one set of network namespaces.
  maxWorkers: 1,
  // Integration hooks create and delete hundreds of objects; unit tests finish long before this.
  testTimeout: 120000,
  projects: [
    {
      displayName: "unit",
      testMatch: [
        "<rootDir>/capabilities/**/*.test.ts",
        "<rootDir>/crds/**/*.test.ts",
        "<rootDir>/test/unit/**/*.test.ts",
      ],
      transform,
      transformIgnorePatterns,
      modulePathIgnorePatterns,
    },
    {
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts", "<rootDir>/test/lab/**/*.test.ts"],
      transform,
      transformIgnorePatterns,
      modulePathIgnorePatterns,
      globalSetup: "<rootDir>/test/integration/global-setup.ts",
      globalTeardown: "<rootDir>/test/integration/global-teardown.ts",
    },
    {
      // Seeded fault rounds against their own control plane and the module's watcher
      // process (test/chaos/chaos.test.ts), plus the unit tests of its planner and checker.
      displayName: "chaos",
      testMatch: ["<rootDir>/test/chaos/**/*.test.ts"],
      transform,
      transformIgnorePatterns,
      modulePathIgnorePatterns,
    },
    {
      // A real one-node cluster (hack/cluster/cluster.sh): npx pepr deploy, the agent in its
      // container, curl through the VIP to a pod by L2 and by BGP, then the uninstall. Needs
      // root (skipped otherwise); METALLB_PEPR_CLUSTER=0 skips it.
      displayName: "cluster",
      testMatch: ["<rootDir>/test/cluster/**/*.test.ts"],
      transform,
      transformIgnorePatterns,
      modulePathIgnorePatterns,
    },
  ],
};
