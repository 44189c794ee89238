/**
 * Jest configuration for the TypeScript unit tests under tests/js.
 *
 * The tests run in Node (which provides fetch, Request, Headers and Response)
 * and compile TypeScript with ts-jest using tests/js/tsconfig.json.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/js'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tests/js/tsconfig.json' }]
  },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  collectCoverageFrom: ['js_src/**/*.ts'],
  coverageDirectory: '<rootDir>/coverage',
  coverageReporters: ['text-summary', 'lcov']
};
