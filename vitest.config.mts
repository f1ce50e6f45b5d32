// Unit tests of the sidebar's pure modules (format, columns, rows, model state).
// Run by tests/test_frontend_unit.py inside the one pytest run CI reads, or `jlpm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/__tests__/**/*.test.ts'],
    environment: 'node',
    reporters: ['default'],
    env: { TZ: 'UTC' }
  }
});
