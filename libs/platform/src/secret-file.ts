import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The contents of a secret file under PAAS_HOME (`secrets/...`), made with `make()` (0600, in
 * a 0700 directory) when missing. Replicas starting together race to make it: each writes its
 * own candidate and links it into place, so the file appears whole and exactly one candidate
 * wins; every replica then reads the winner.
 */
export function ensureSecretFile(file: string, make: () => string): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const candidate = `${file}.${process.pid}`;
  writeFileSync(candidate, make(), { mode: 0o600 });
  try {
    linkSync(candidate, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(candidate, { force: true });
  }
  return readFileSync(file, 'utf8');
}
