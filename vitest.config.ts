import { defineConfig } from 'vitest/config';

// Two projects: `unit` never starts a process or loads vscode; `integration` starts real daemons
// (from dist/, which `npm test` builds first) on port 0 with temp data dirs.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Real daemons and fsyncs on two cores: run the integration files one after another in one
          // fork so they do not fight for the disk and the CPU.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        // Real Kafka and RabbitMQ (`npm run test:backends` starts them and sets their addresses);
        // each suite skips with one printed line when its address is not set.
        test: {
          name: 'backends',
          include: ['test/backends/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
