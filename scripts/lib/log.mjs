// Concise progress lines, and the entry point wrapper that turns a thrown error into a
// clear message and a non-zero exit code.
export const ok = (message) => console.log(`✓ ${message}`);
export const step = (message) => console.log(`… ${message}`);
export const warn = (message) => console.log(`! ${message}`);
export const fail = (message) => console.error(`✗ ${message}`);

export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Measures an async step: resolves to [result, elapsed milliseconds]. */
export async function timed(fn) {
  const start = Date.now();
  const result = await fn();
  return [result, Date.now() - start];
}

/** Runs a step that produces something, printing what it does and how long it took. */
export async function produce(doing, done, fn) {
  step(doing);
  const [, ms] = await timed(fn);
  ok(`${done} (${seconds(ms)})`);
}

/** An error whose message is the whole story: printed without a stack trace. */
export class Failure extends Error {}

export async function main(fn) {
  try {
    await fn();
  } catch (error) {
    fail(error instanceof Failure ? error.message : error.stack);
    process.exitCode = 1;
  }
}
