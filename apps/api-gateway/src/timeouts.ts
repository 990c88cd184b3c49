/** Creates check their sources (a BuildConfig's `git ls-remote` may take seconds): give them room. */
export const CREATE_TIMEOUT_MS = 30_000;
