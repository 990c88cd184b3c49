import { Inject, Injectable } from '@nestjs/common';
import { ARCHIVE_HEAD_BYTES, archiveFormatOf, uploadedFileName, type BinaryBuildRequest, type BinaryUpload, type Build } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import { BINARY_INPUTS, type BinaryInputs } from '@paas/platform/binary-inputs';
import { RpcClient } from '@paas/platform/rpc';
import { assertNamespaceName } from '../namespaces/namespaces.service';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway-settings';

export interface BinaryUploadRequest {
  namespace: string;
  name: string;
  /** `asFile`, and OpenShift's `revision.commit`, `revision.message`, `revision.authorName`, `revision.authorEmail`. */
  query: Record<string, unknown>;
  body: AsyncIterable<Uint8Array> | undefined;
  uploader: string;
}

/** Whether `head` (an upload's first bytes) begins a gzip stream, a zip archive or a POSIX/GNU tar. */
export const looksLikeArchive = (head: Uint8Array): boolean => archiveFormatOf(head) !== undefined;

/**
 * A Binary build from an upload (the file the BuildConfig's `binary.asFile`, or the request's
 * `asFile`, names; else an archive): the body streams into the bus's object store (counted and
 * hashed on the way; over the limit a 413, an archive that is neither gzip, zip nor tar a 400,
 * and nothing kept), then the build-service makes the Build, which reads it from there. An
 * upload no build took is deleted again.
 */
@Injectable()
export class UploadBinaryBuild {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(BINARY_INPUTS) private readonly inputs: BinaryInputs,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async execute({ namespace, name, query, body, uploader }: BinaryUploadRequest): Promise<Build> {
    assertNamespaceName(namespace);
    // Asked before a byte is read: a missing or git BuildConfig stores nothing, and its own asFile applies.
    const { source } = (await this.rpc.request('buildconfigs.get', { namespace, name })).spec;
    if (source.type !== 'Binary') throw ApiError.of('BadRequest', `buildconfig ${namespace}/${name} builds from git (source type ${source.type}), not from uploaded files: use instantiate`);
    const asFile = stringParam(query, 'asFile') ?? source.binary?.asFile;
    if (asFile !== undefined && !uploadedFileName.safeParse(asFile).success) throw ApiError.of('BadRequest', `asFile "${asFile.slice(0, 64)}" must be a file name without a directory`);
    if (!body) throw ApiError.of('BadRequest', 'send the files as the request body: a tar, tar.gz or zip archive of the directory, or one file with ?asFile=<name>');

    let refusal: ApiError | undefined;
    const refuse = (error: ApiError) => {
      refusal = error;
      return error;
    };
    const stored = await this.inputs.put(checked(body, this.settings.binaryMaxBytes, asFile === undefined, refuse)).catch((error: unknown) => {
      throw refusal ?? error;
    });
    const upload: BinaryUpload = { ...stored, ...(asFile ? { asFile } : {}) };
    const request: BinaryBuildRequest = { namespace, name, upload, uploader, ...revisionOf(query) };
    try {
      return await this.rpc.request('buildconfigs.instantiatebinary', request);
    } catch (error) {
      await this.inputs.delete(upload.object).catch(() => undefined);
      throw error;
    }
  }
}

/** The body as it goes by, refused (through `refuse`) when it grows past `maxBytes`, when an archive's first bytes are no archive's, or when the client stops sending it. */
async function* checked(body: AsyncIterable<Uint8Array>, maxBytes: number, archive: boolean, refuse: (error: ApiError) => ApiError): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  let head: Buffer | undefined = archive ? Buffer.alloc(0) : undefined;
  const chunks = async function* () {
    try {
      yield* body;
    } catch (error) {
      throw refuse(ApiError.of('BadRequest', `the upload was cut off after ${bytes} bytes: ${(error as Error).message}`));
    }
  };
  for await (const chunk of chunks()) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw refuse(ApiError.of('RequestEntityTooLarge', `the upload is larger than ${maxBytes} bytes (PAAS_BINARY_MAX_BYTES)`));
    if (!head) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < ARCHIVE_HEAD_BYTES) continue;
    if (!looksLikeArchive(head)) throw refuse(notAnArchive());
    yield head;
    head = undefined;
  }
  if (head && (head.length === 0 || !looksLikeArchive(head))) throw refuse(notAnArchive());
  if (head) yield head;
}

const notAnArchive = () => ApiError.of('BadRequest', 'the body is not a tar, tar.gz or zip archive: send one, or a single file with ?asFile=<name>');

function stringParam(query: Record<string, unknown>, key: string): string | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw ApiError.of('BadRequest', `give ${key} once`);
  return value;
}

/** OpenShift's revision parameters, kept as the build's revision (capped: they are shown, not parsed). */
function revisionOf(query: Record<string, unknown>): Pick<BinaryBuildRequest, 'revision'> {
  const field = (key: string) => stringParam(query, `revision.${key}`)?.slice(0, 1024) || undefined;
  const [commit, message, authorName, authorEmail] = ['commit', 'message', 'authorName', 'authorEmail'].map(field);
  const author = authorName || authorEmail ? [authorName, authorEmail && `<${authorEmail}>`].filter(Boolean).join(' ') : undefined;
  if (!commit && !message && !author) return {};
  return { revision: { ...(commit ? { commit } : {}), ...(message ? { message } : {}), ...(author ? { author } : {}) } };
}
