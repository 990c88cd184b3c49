import { pack, type Headers } from 'tar-stream';
import { ZipFile } from 'yazl';

/** For tests: archives as clients upload them (Binary builds), built in memory. */

export type TarEntry = Partial<Headers> & { name: string; content?: string };

export async function collect(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A tar of `entries` (files of mode 644 unless they say otherwise), with its end-of-archive blocks. */
export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => archive.entry({ type: 'file', mode: 0o644, ...header }, content ?? '', (error) => (error ? reject(error) : resolve())));
  }
  archive.finalize();
  return collect(archive);
}

/** A zip of `entries`: files, a symlink with `mode` 0o120777 (its content the target), a directory for a name ending in `/`. */
export async function zipOf(entries: { name: string; content?: string; mode?: number }[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const { name, content, mode } of entries) {
    if (name.endsWith('/')) zip.addEmptyDirectory(name);
    else zip.addBuffer(Buffer.from(content ?? ''), name, { mode: mode ?? 0o100644 });
  }
  zip.end();
  return collect(zip.outputStream);
}
