import { Readable } from 'node:stream';
import { extract, pack, type Headers, type Pack } from 'tar-stream';

/**
 * What assemble's container reads on stdin for an incremental build, as s2i streams it: one
 * tar holding the saved artifacts under `artifacts/` (the tar the previous image's
 * save-artifacts wrote) and the source under `src/`. Unpacked by the assemble user, every file
 * is theirs to move or change (files an engine copies into a container are root's).
 */
export function incrementalInput(artifacts: Readable, source: Readable): Readable {
  const merged = pack();
  const under = (directory: string) => (name: string) => `${directory}/${name.replace(/^(\.\/)+/, '')}`;
  (async () => {
    await copyEntries(artifacts, merged, under('artifacts'));
    await copyEntries(source, merged, under('src'));
    merged.finalize();
  })().catch((error: Error) => merged.destroy(error));
  return merged;
}

/** What the builder container reads on stdin (s2i-roles' ASSEMBLE_SCRIPT): `lines`, each ended by a newline, then the tar. */
export function assembleInput(lines: string[], tar: Readable): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from(lines.map((line) => `${line}\n`).join(''));
      yield* tar;
    })(),
  );
}

/** Each entry of the tar `input` into `into`, its name (and a hard link's target) renamed. */
function copyEntries(input: Readable, into: Pack, rename: (name: string) => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const entries = extract();
    entries.on('entry', (header: Headers, stream: Readable, next: () => void) => {
      const renamed: Headers = { ...header, name: rename(header.name), ...(header.type === 'link' && header.linkname ? { linkname: rename(header.linkname) } : {}) };
      stream.pipe(into.entry(renamed, (error) => (error ? reject(error) : next())));
    });
    entries.on('finish', resolve);
    entries.on('error', reject);
    input.on('error', reject);
    input.pipe(entries);
  });
}
